using System.Diagnostics;
using System.Text.Json;

namespace Reproduce.Scripts.Tests;

/// <summary>
/// Each paper script's <c>--profile released</c> end to end on stand-in weights and trees: checkpoints in the official
/// release layouts (committed fixtures: tests/fixtures/released_heads, released_vit, released_standins; real
/// key sets and depths, widths shrunk) copied under the official file names, the models shrunk to them through
/// <c>REPRODUCE_RELEASED_MODEL</c> (per family, <c>PREFIX:key=value</c>), and small trees in the datasets' layouts. Each
/// script runs every evaluation or analysis of its plan through the CLI and writes measured.json, whose rows are checked
/// against a PyTorch evaluation of the same files (token-labeling's ImageNet rows) or a direct CLI run of the same
/// command (the UperNet and analysis rows).
/// </summary>
public sealed class ReleasedEndToEndTests
{
    private static string Fixture(string folder, string name) => Path.Combine(FsiRunner.RepoRoot, "tests", "fixtures", folder, name);

    private static string Stage(string folder, string name, string target)
    {
        File.Copy(Fixture(folder, name), target);
        return target;
    }

    /// <summary>Runs the reproduce CLI; returns its stdout (exit 0 asserted).</summary>
    private static string Reproduce(params string[] args)
    {
        var psi = new ProcessStartInfo(Path.Combine(FsiRunner.RepoRoot, "reproduce")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"reproduce {string.Join(' ', args)}: exit {p.ExitCode}\n{stdout}\n{stderr.Result}");
        return stdout;
    }

    private static string Scenes(string root, int height, int width)
    {
        Reproduce("data", "scenes", "--root", root, "--train", "1", "--test", "1", "--height", $"{height}", "--width", $"{width}");
        var tree = Directory.GetDirectories(root, "fashion-scenes-*").Single();
        File.Delete(Path.Combine(tree, "ADEChallengeData2016", "objectInfo150.txt")); // ADE20K's own 150 classes, as the heads
        return tree;
    }

    [Fact]
    public void StaAnfReleasedProfileWritesTheHeadRowsFromStandInWeights()
    {
        using var dir = new TempDir();
        // ADE20K at 32×32 (one slide window); NYUv2 and KITTI at 480×640 (the size the NYUv2 Eigen crop is defined for; whole mode).
        var adeTree = Scenes(dir["ade"], 32, 32);
        var nyuTree = Scenes(dir["nyu"], 480, 640);
        var weights = Directory.CreateDirectory(dir["weights"]).FullName;
        foreach (var m in new[] { "s", "b" })
        {
            File.Copy(Fixture("released_heads", "dinov2_vits14.pth"), Path.Combine(weights, $"dinov2_vit{m}14_pretrain.pth"));
            File.Copy(Fixture("released_vit", "dinov2_vits14_reg4.pth"), Path.Combine(weights, $"dinov2_vit{m}14_reg4_pretrain.pth"));
            File.Copy(Fixture("released_heads", "dinov2_vits14_ade20k_linear_head.pth"), Path.Combine(weights, $"dinov2_vit{m}14_ade20k_linear_head.pth"));
            File.Copy(Fixture("released_heads", "dinov2_vits14_ade20k_ms_head.pth"), Path.Combine(weights, $"dinov2_vit{m}14_ade20k_ms_head.pth"));
            File.Copy(Fixture("released_heads", "dinov2_vits14_nyu_linear4_head.pth"), Path.Combine(weights, $"dinov2_vit{m}14_nyu_linear4_head.pth"));
            // DINOv2's KITTI heads have the NYUv2 heads' layout (conv_depth over 256 bins; the range is the dataset's).
            File.Copy(Fixture("released_heads", "dinov2_vits14_nyu_linear4_head.pth"), Path.Combine(weights, $"dinov2_vit{m}14_kitti_linear4_head.pth"));
        }
        File.WriteAllText(dir["roots.json"], "{}");
        var environment = new Dictionary<string, string>
        {
            ["REPRODUCE_WEIGHTS"] = weights,
            ["REPRODUCE_ADE20K"] = Path.Combine(adeTree, "ADEChallengeData2016"),
            ["REPRODUCE_NYU"] = Path.Combine(nyuTree, "nyu"),
            ["REPRODUCE_KITTI"] = Path.Combine(nyuTree, "kitti"),
            ["REPRODUCE_IMAGENET"] = "",
            ["REPRODUCE_RELEASED_MODEL"] = "embed_dim=8;num_heads=2;img_size=42",
        };
        var r = FsiRunner.RunWith("scripts/sta-anf.fsx", environment, "--profile", "released", "--results", dir["results"], "--data-config", dir["roots.json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var measured = Path.Combine(dir["results"], "released", "sta-anf", "measured.json");
        Assert.True(File.Exists(measured), r.ToString());
        using var doc = JsonDocument.Parse(File.ReadAllText(measured));
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray()
            .Where(x => x.GetProperty("table").GetString() == "released DINOv2 linear heads (no training)").ToList();
        Assert.Equal(8, rows.Count);
        var nyu = rows.Single(x => x.GetProperty("row").GetString() == "DINOv2 ViT-S/14 NYUv2 linear4 head");
        Assert.Equal("dinov2-card-s-nyuv2", nyu.GetProperty("paper_ref").GetString());
        Assert.True(nyu.GetProperty("values")[0].GetDouble() > 0);
        var kitti = rows.Single(x => x.GetProperty("row").GetString() == "DINOv2 ViT-B/14 KITTI linear4 head");
        Assert.False(kitti.TryGetProperty("paper_ref", out _));
        Assert.True(kitti.GetProperty("values")[0].GetDouble() > 0);
        var ade = rows.Single(x => x.GetProperty("row").GetString() == "DINOv2 ViT-B/14 ADE20K linear head");
        Assert.InRange(ade.GetProperty("values")[0].GetDouble(), 0, 100);
        Assert.False(ade.TryGetProperty("paper_ref", out _));
        // The +ms heads: last four blocks, DINOv2's ratios with flip, against the model card's multiscale mIoU.
        foreach (var m in new[] { "s", "b" })
        {
            var ms = rows.Single(x => x.GetProperty("row").GetString() == $"DINOv2 ViT-{m.ToUpperInvariant()}/14 ADE20K +ms head");
            Assert.Equal($"dinov2-card-{m}-ade20k", ms.GetProperty("paper_ref").GetString());
            Assert.Equal("mIoU (multi-scale + flip)", ms.GetProperty("metric").GetString());
            Assert.InRange(ms.GetProperty("values")[0].GetDouble(), 0, 100);
            var final = RunFinal(dir["results"], ms);
            Assert.Equal([1.0, 1.32, 1.73, 2.28, 3.0], final.GetProperty("test_scales").EnumerateArray().Select(v => v.GetDouble()));
            Assert.True(final.GetProperty("test_flip").GetBoolean());
        }
        Assert.Contains(doc.RootElement.GetProperty("rows").EnumerateArray(), x => x.GetProperty("table").GetString()!.StartsWith("token-norm outliers", StringComparison.Ordinal));
    }

    /// <summary>The rows of <c>measured.json</c> that <paramref name="paper"/>'s released profile wrote under <paramref name="results"/>.</summary>
    private static List<JsonElement> MeasuredRows(string results, string paper)
    {
        var measured = Path.Combine(results, "released", paper, "measured.json");
        Assert.True(File.Exists(measured), $"no {measured}");
        using var doc = JsonDocument.Parse(File.ReadAllText(measured));
        return doc.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.Clone()).ToList();
    }

    private static JsonElement Row(List<JsonElement> rows, string table, string row, string? metric = null) =>
        Assert.Single(rows, r => r.GetProperty("table").GetString() == table && r.GetProperty("row").GetString() == row
            && (metric is null || r.GetProperty("metric").GetString() == metric));

    // The run directory (relative to the results folder) a row's value came from.
    private static JsonElement RunFinal(string results, JsonElement row)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(results, row.GetProperty("runs")[0].GetString()!, "final.json")));
        return doc.RootElement.Clone();
    }

    // LV-ViT: the real depths and skip_lam of each size (one stand-in file per size letter), width 8, stem 8, 10 classes at
    // 32 pixels; dynamic_img_size lets the UperNet rows' 512-pixel slide window take the 64-pixel scenes as they are.
    // DeiT: DeiT's release layout at the real depth 12, width 8.
    private const string TokenLabelingModels =
        "lvvit_:embed_dim=8;lvvit_:num_heads=2;lvvit_:stem_channels=8;lvvit_:num_classes=10;lvvit_:img_size=32;lvvit_:dynamic_img_size=true;"
        + "deit_:embed_dim=8;deit_:num_heads=2;deit_:num_classes=10";

    [Fact]
    public void TokenLabelingReleasedProfileWritesTheImageNetAndUperNetRowsFromStandInWeights()
    {
        using var dir = new TempDir();
        var weights = Directory.CreateDirectory(dir["weights"]).FullName;
        var lvvit = new (string File, string Size, string Label)[]
        {
            ("lvvit_t.pth", "t", "LV-ViT-T @224"), ("lvvit_s-26M-224-83.3.pth.tar", "s", "LV-ViT-S @224"), ("lvvit_s-26M-384-84.4.pth.tar", "s", "LV-ViT-S @384"),
            ("lvvit_m-56M-224-84.0.pth.tar", "m", "LV-ViT-M @224"), ("lvvit_m-56M-384-85.4.pth.tar", "m", "LV-ViT-M @384"),
            ("lvvit_m-56M-448-85.5.pth.tar", "m", "LV-ViT-M @448"), ("lvvit_l-150M-448-86.2.pth.tar", "l", "LV-ViT-L @448"),
            ("lvvit_l-150M-512-86.4.pth.tar", "l", "LV-ViT-L @512"),
        };
        foreach (var (file, size, _) in lvvit) Stage("released_standins", $"lvvit_{size}.pth.tar", Path.Combine(weights, file));
        foreach (var file in new[] { "deit_small_patch16_224-cd65a155.pth", "deit_base_patch16_224-b5f2ef4d.pth" }) Stage("released_standins", "deit.pth", Path.Combine(weights, file));
        foreach (var size in new[] { "s", "m", "l" }) Stage("released_standins", $"upernet_lvvit_{size}.pth", Path.Combine(weights, $"upernet_lvvit_{size}.pth"));
        var adeTree = Scenes(dir["ade"], 64, 64);
        File.WriteAllText(dir["roots.json"], "{}");
        var environment = new Dictionary<string, string>
        {
            ["REPRODUCE_WEIGHTS"] = weights,
            ["REPRODUCE_IMAGENET"] = Fixture("deit_eval", ""),
            ["REPRODUCE_ADE20K"] = Path.Combine(adeTree, "ADEChallengeData2016"),
            ["REPRODUCE_RELEASED_MODEL"] = TokenLabelingModels,
            // mmseg's ADE20K test scale (2048, 512) would blow the 64-pixel scene up to 512 and each --aug-test row up to 40
            // windows of 512; the stand-ins are scored at their own size instead (the scale still goes through the rescale),
            // and the planned commands below carry the profile's own (2048, 512).
            ["REPRODUCE_RELEASED_PROBE"] = "probe.test_scale=[64,64]",
        };
        var r = FsiRunner.RunWith("scripts/token-labeling.fsx", environment, "--profile", "released", "--results", dir["results"], "--data-config", dir["roots.json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        // Each command as logged (a run's log line and the closing list both show it): S, M, L, single scale and --aug-test.
        var upernetCommands = r.Stdout.Split('\n').Where(l => l.Contains("reproduce probe seg", StringComparison.Ordinal) && l.Contains("upernet_lvvit_", StringComparison.Ordinal))
            .Select(l => l[l.IndexOf("reproduce probe seg", StringComparison.Ordinal)..].Trim()).Distinct().ToList();
        Assert.Equal(6, upernetCommands.Count);
        Assert.All(upernetCommands, l => Assert.Contains("--set probe.test_scale=[2048,512] ", l, StringComparison.Ordinal));
        var rows = MeasuredRows(dir["results"], "token-labeling");

        // ImageNet rows: the top-1 / top-5 of a torchvision + PyTorch evaluation of the same files and images
        // (make_standins.py: each model's crop_pct, PIL bicubic).
        using var expected = JsonDocument.Parse(File.ReadAllText(Fixture("released_standins", "expected.json")));
        const string imagenet = "released checkpoints (ImageNet-1k val)";
        void AssertTop(JsonElement row, string reference)
        {
            var want = expected.RootElement.GetProperty(reference);
            Assert.Equal(want.GetProperty("top1").GetDouble(), row.GetProperty("values")[0].GetDouble(), 6);
            var final = RunFinal(dir["results"], row);
            Assert.Equal(want.GetProperty("top5").GetDouble(), final.GetProperty("top5").GetDouble(), 6);
            Assert.Equal(want.GetProperty("samples").GetInt32(), final.GetProperty("samples").GetInt32());
        }
        foreach (var (file, size, label) in lvvit)
        {
            var row = Row(rows, imagenet, label);
            Assert.StartsWith("tl-model-lvvit-", row.GetProperty("paper_ref").GetString(), StringComparison.Ordinal);
            AssertTop(row, $"lvvit_{size}");
            Assert.EndsWith(file, RunFinal(dir["results"], row).GetProperty("weights").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal(6, rows.Count(x => x.GetProperty("row").GetString()!.EndsWith("(vs Paddle re-evaluation)", StringComparison.Ordinal)));
        AssertTop(Row(rows, imagenet, "DeiT-S @224"), "deit");
        AssertTop(Row(rows, imagenet, "DeiT-B @224"), "deit");
        Assert.Equal(0.9, RunFinal(dir["results"], Row(rows, imagenet, "LV-ViT-S @224")).GetProperty("crop_pct").GetDouble());
        Assert.Equal(1.0, RunFinal(dir["results"], Row(rows, imagenet, "LV-ViT-M @224")).GetProperty("crop_pct").GetDouble());

        // ADE20K rows: finite mIoU single-scale and with mmseg's --aug-test (ratios 0.5…1.75, flip; recorded in the run's
        // final.json), and LV-ViT-S's single-scale mIoU equals a direct `reproduce probe seg` of the segmentor file with the
        // configs' evaluation (slide 512 / 341 on the image rescaled to fit the test scale, here the stand-ins' own, blocks 6, 9,
        // 12, 15, eps 1e-6).
        const string ade = "released checkpoints (ADE20K val)";
        foreach (var size in new[] { "S", "M", "L" })
        {
            var row = Row(rows, ade, $"LV-ViT-{size} + UperNet", "mIoU (single scale)");
            Assert.Equal($"tl-upernet-{size.ToLowerInvariant()}-miou-ss", row.GetProperty("paper_ref").GetString());
            Assert.InRange(row.GetProperty("values")[0].GetDouble(), 0, 100);
            var ms = Row(rows, ade, $"LV-ViT-{size} + UperNet", "mIoU (multi-scale + flip)");
            Assert.Equal($"tl-upernet-{size.ToLowerInvariant()}-miou-ms", ms.GetProperty("paper_ref").GetString());
            Assert.InRange(ms.GetProperty("values")[0].GetDouble(), 0, 100);
            var final = RunFinal(dir["results"], ms);
            Assert.Equal([0.5, 0.75, 1.0, 1.25, 1.5, 1.75], final.GetProperty("test_scales").EnumerateArray().Select(v => v.GetDouble()));
            Assert.True(final.GetProperty("test_flip").GetBoolean());
            Assert.Equal([64, 64], final.GetProperty("test_scale").EnumerateArray().Select(v => v.GetInt32()));
            var single = RunFinal(dir["results"], row);
            Assert.Equal([1.0], single.GetProperty("test_scales").EnumerateArray().Select(v => v.GetDouble())); // mmseg's single-scale test
            Assert.False(single.GetProperty("test_flip").GetBoolean());
            Assert.Equal([64, 64], single.GetProperty("test_scale").EnumerateArray().Select(v => v.GetInt32()));
        }
        var upernet = Path.Combine(weights, "upernet_lvvit_s.pth");
        var sets = TokenLabelingModels.Split(';').Where(o => o.StartsWith("lvvit_:", StringComparison.Ordinal)).Select(o => "model." + o["lvvit_:".Length..]);
        string[] protocol = ["model.img_size=512", "model.norm_eps=1e-06", "probe.head=upernet", "probe.layers=[6,9,12,15]", "probe.slide=true", "probe.crop_size=512", "probe.stride=341", "probe.test_scale=[2048,512]", .. sets, "probe.test_scale=[64,64]"];
        Reproduce(["probe", "seg", "--model", "lvvit_s", "--weights", upernet, "--head-weights", upernet, "--data", "ade20k",
            "--root", environment["REPRODUCE_ADE20K"], .. protocol.SelectMany(o => new[] { "--set", o }), "--out", dir["direct"]]);
        using var direct = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir["direct"], "final.json")));
        Assert.Equal(direct.RootElement.GetProperty("mIoU").GetDouble(), Row(rows, ade, "LV-ViT-S + UperNet", "mIoU (single scale)").GetProperty("values")[0].GetDouble(), 9);
    }

    [Fact]
    public void SpecializationReleasedProfileWritesThePerBlockCosinesFromStandInWeights()
    {
        using var dir = new TempDir();
        var weights = Directory.CreateDirectory(dir["weights"]).FullName;
        foreach (var m in new[] { "s", "b" })
        {
            Stage("released_heads", "dinov2_vits14.pth", Path.Combine(weights, $"dinov2_vit{m}14_pretrain.pth"));
            Stage("released_vit", "dinov2_vits14_reg4.pth", Path.Combine(weights, $"dinov2_vit{m}14_reg4_pretrain.pth"));
        }
        var deit3 = Stage("released_vit", "deit3_small.pth", Path.Combine(weights, "deit_3_small_224_1k.pth"));
        Stage("released_vit", "deit3_small.pth", Path.Combine(weights, "deit_3_base_224_1k.pth"));
        File.WriteAllText(dir["roots.json"], "{}");
        // DINOv2 hub layouts at width 8 (patch 14; the registers file's 28-pixel grid resampled to 42), DeiT-III's training
        // checkpoint at width 8, patch 8, 32 pixels, 5 classes; all 12 blocks deep.
        var shrink = new[] { "embed_dim=8", "num_heads=2", "vit_:img_size=42", "deit3_:img_size=32", "deit3_:patch_size=8", "deit3_:num_classes=5" };
        var environment = new Dictionary<string, string> { ["REPRODUCE_WEIGHTS"] = weights, ["REPRODUCE_RELEASED_MODEL"] = string.Join(';', shrink) };
        var r = FsiRunner.RunWith("scripts/specialization.fsx", environment, "--profile", "released", "--results", dir["results"], "--data-config", dir["roots.json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var rows = MeasuredRows(dir["results"], "specialization");
        const string table = "[CLS]–patch cosine per block, released backbones";
        var labels = new[] { "DINOv2 ViT-S/14", "DINOv2 ViT-S/14 + 4 registers", "DINOv2 ViT-B/14", "DINOv2 ViT-B/14 + 4 registers", "DeiT-III-S @224", "DeiT-III-B @224" };
        foreach (var label in labels)
        {
            var mine = rows.Where(x => x.GetProperty("table").GetString() == table && x.GetProperty("row").GetString()!.StartsWith(label + ", block ", StringComparison.Ordinal)).ToList();
            Assert.Equal(12 * 2, mine.Count);
            Assert.All(mine, x => Assert.InRange(x.GetProperty("values")[0].GetDouble(), -1, 1));
        }
        Assert.Equal(6 * 12 * 2, rows.Count(x => x.GetProperty("table").GetString() == table));

        // Every DeiT-III-S row equals a direct `reproduce analyze` of the same file on the same 32 images.
        var analysis = dir["direct.json"];
        Reproduce(["analyze", "--model", "deit3_small_patch16_224", "--weights", deit3, .. shrink.Select(o => o.Replace("deit3_:", "")).Where(o => !o.StartsWith("vit_:", StringComparison.Ordinal)).SelectMany(o => new[] { "--set", o }),
            "--images", "32", "--out", analysis]);
        using var direct = JsonDocument.Parse(File.ReadAllText(analysis));
        var blocks = direct.RootElement.GetProperty("blocks").EnumerateArray().ToList();
        Assert.Equal(12, blocks.Count);
        foreach (var b in blocks)
            foreach (var (key, metric) in new[] { ("cls_patch_cos_before_norm1", "cos([CLS], patch) before LN1"), ("cls_patch_cos_after_norm1", "cos([CLS], patch) after LN1") })
            {
                var row = Assert.Single(rows, x => x.GetProperty("row").GetString() == $"DeiT-III-S @224, block {b.GetProperty("block").GetInt32()}" && x.GetProperty("metric").GetString() == metric);
                Assert.Equal(b.GetProperty(key).GetDouble(), row.GetProperty("values")[0].GetDouble(), 9);
            }
    }
}
