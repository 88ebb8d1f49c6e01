using System.Text.RegularExpressions;

namespace Reproduce.Scripts.Tests;

/// <summary>
/// `scripts/token-labeling.fsx --profile full` in plan mode: the token labels are NFNet-F6's (the released folder,
/// checked first, or `--teacher nfnet_f6`'s annotate step at 576 px), no annotator is trained, and every train command
/// reads one committed recipe under configs/full plus a few --sets.
/// </summary>
public sealed partial class TokenLabelingFullPlanTests : IDisposable
{
    private readonly TempDir _dir = new();

    public TokenLabelingFullPlanTests()
    {
        Directory.CreateDirectory(_dir["imagenet/train"]);
        Directory.CreateDirectory(_dir["labels"]);
        Directory.CreateDirectory(_dir["ade"]);
        // The released ImageNet LV-ViT-M/L the UperNet rows start from: a plan only checks that the files are there.
        Directory.CreateDirectory(_dir["weights"]);
        foreach (var f in new[] { "lvvit_m-56M-224-84.0.pth.tar", "lvvit_l-150M-448-86.2.pth.tar" }) File.WriteAllText(_dir[Path.Combine("weights", f)], "");
    }

    /// <summary>ImageNet, ADE20K and the weights folder (every full-profile input but the token labels).</summary>
    private string Inputs => $$"""
        "imagenet": "{{_dir["imagenet"]}}", "ade20k": "{{_dir["ade"]}}", "weights": "{{_dir["weights"]}}"
        """;

    public void Dispose() => _dir.Dispose();

    private FsiResult Plan(string roots, params string[] extra)
    {
        File.WriteAllText(_dir["roots.json"], roots);
        // The roots come from the file alone: environment variables would take precedence.
        var env = new Dictionary<string, string>
        {
            ["REPRODUCE_IMAGENET"] = "", ["REPRODUCE_TOKEN_LABELS"] = "", ["REPRODUCE_ADE20K"] = "", ["REPRODUCE_WEIGHTS"] = "",
        };
        return FsiRunner.RunWith("scripts/token-labeling.fsx", env,
            ["--profile", "full", "--data-config", _dir["roots.json"], "--results", _dir["results"], .. extra]);
    }

    private static List<string> Planned(FsiResult r) =>
        r.Stdout.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("reproduce ", StringComparison.Ordinal)).ToList();

    private static void EachTrainReadsARecipe(List<string> planned)
    {
        var trains = planned.Where(l => l.StartsWith("reproduce train ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(trains);
        foreach (var t in trains)
        {
            Assert.Matches("--config configs/full/(lvvit-s|deit-s)-imagenet\\.json ", t);
            // profile, name and data.root are set on every run; what differs per row is at most a handful.
            var rowSets = Sets().Matches(t).Select(m => m.Groups[1].Value).Where(k => k is not ("profile" or "name" or "data.root")).ToList();
            Assert.True(rowSets.Count <= 6, $"{rowSets.Count} row settings: {t}");
            Assert.DoesNotContain("resnet", t, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TheReleasedLabelsAreCheckedAndTrainedOnWithoutAnAnnotator()
    {
        var labels = _dir["labels"];
        var r = Plan($$"""{ {{Inputs}}, "token-labels": "{{labels}}" }""");
        Assert.True(r.ExitCode == 0, r.ToString());
        var planned = Planned(r);
        Assert.Contains($"reproduce data check token-labels --root {labels} --images {_dir["imagenet"]} --limit 20000", planned[0], StringComparison.Ordinal);
        Assert.DoesNotContain(planned, l => l.StartsWith("reproduce annotate", StringComparison.Ordinal));
        Assert.DoesNotContain(planned, l => l.Contains("name=annotator", StringComparison.Ordinal));
        EachTrainReadsARecipe(planned);
        var tl = planned.Where(l => l.Contains("token_label.enabled=true", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(tl);
        Assert.All(tl, l => Assert.Contains($"--set token_label.source={labels} ", l, StringComparison.Ordinal));
        Assert.Single(planned, l => l.Contains("configs/full/deit-s-imagenet.json --set profile=full --set name=deit-tl ", StringComparison.Ordinal)
            && l.Contains("aug.mixup=0 --set aug.cutmix=0", StringComparison.Ordinal));
    }

    [Fact]
    public void MissingLabelsArePlannedWithTheirDownload()
    {
        var r = Plan($$"""{ "imagenet": "{{_dir["imagenet"]}}" }""");
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("token-labels: not configured (set REPRODUCE_TOKEN_LABELS", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("https://drive.google.com/file/d/1Cat8HQPSRVJFPnBLlfzVE0Exe65a_4zh", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void TheNfnetF6TeacherAnnotatesAt576()
    {
        var r = Plan($$"""{ {{Inputs}} }""", "--teacher", "nfnet_f6");
        Assert.True(r.ExitCode == 0, r.ToString());
        var planned = Planned(r);
        var annotate = Assert.Single(planned, l => l.StartsWith("reproduce annotate", StringComparison.Ordinal));
        Assert.Contains("--model dm_nfnet_f6 ", annotate, StringComparison.Ordinal);
        Assert.Contains("--resolution 576 --topk 5", annotate, StringComparison.Ordinal);
        Assert.Contains("--batch 32", annotate, StringComparison.Ordinal);
        Assert.DoesNotContain(planned, l => l.StartsWith("reproduce data check", StringComparison.Ordinal));
        Assert.DoesNotContain(planned, l => l.Contains("name=annotator", StringComparison.Ordinal));
        EachTrainReadsARecipe(planned);
        Assert.All(planned.Where(l => l.Contains("token_label.enabled=true", StringComparison.Ordinal)),
            l => Assert.Matches("--set token_label.source=\\S*/token-labels-nfnet-f6-[0-9a-f]+/store ", l));
    }

    [Fact]
    public void TheTeacherIsAFullProfileChoice()
    {
        var r = FsiRunner.Run("scripts/token-labeling.fsx", "--profile", "quick", "--teacher", "released");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--teacher applies to the full profile", r.Stderr, StringComparison.Ordinal);
        var bad = FsiRunner.Run("scripts/token-labeling.fsx", "--profile", "full", "--teacher", "resnet50");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--teacher must be released or nfnet_f6, got 'resnet50'", bad.Stderr, StringComparison.Ordinal);
    }

    [GeneratedRegex("--set ([a-z_.]+)=")]
    private static partial Regex Sets();
}
