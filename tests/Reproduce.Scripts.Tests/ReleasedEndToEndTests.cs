using System.Diagnostics;
using System.Text.Json;

namespace Reproduce.Scripts.Tests;

/// <summary>
/// sta-anf.fsx's <c>--profile released</c> end to end on stand-in weights and trees: the committed fixtures
/// (tests/fixtures/released_heads, released_vit: the official layouts of DINOv2's hub backbones ± registers and its
/// ADE20K linear / NYUv2 linear4 heads, width 8) under the official file names, shrunk through
/// <c>REPRODUCE_RELEASED_MODEL</c>, and fashion-scenes trees in the ADE20K layout (one 32×32 scene, ADE20K's 150
/// classes) and the NYUv2 layout (one 480×640 scene, the size the NYUv2 Eigen crop needs). The profile runs its four analyses and four head
/// evaluations through the CLI and writes measured.json with the head rows against the model card. The other two
/// released profiles (token-labeling: 13 ImageNet / ADE20K evaluations; specialization: 6 analyses) run the same
/// Released.fsx steps and are covered by their plans (ReleasedProfileTests), not end to end: their runs would pass the
/// test-time budget.
/// </summary>
public sealed class ReleasedEndToEndTests
{
    private static string Fixture(string folder, string name) => Path.Combine(FsiRunner.RepoRoot, "tests", "fixtures", folder, name);

    private static string Scenes(string root, int height, int width)
    {
        var psi = new ProcessStartInfo(Path.Combine(FsiRunner.RepoRoot, "reproduce")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "data", "scenes", "--root", root, "--train", "1", "--test", "1", "--height", $"{height}", "--width", $"{width}" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, output);
        var tree = Directory.GetDirectories(root, "fashion-scenes-*").Single();
        File.Delete(Path.Combine(tree, "ADEChallengeData2016", "objectInfo150.txt")); // ADE20K's own 150 classes, as the heads
        return tree;
    }

    [Fact]
    public void StaAnfReleasedProfileWritesTheHeadRowsFromStandInWeights()
    {
        using var dir = new TempDir();
        // ADE20K at 32×32 (one slide window), NYUv2 at 480×640 (the size its Eigen crop is defined for; whole mode).
        var adeTree = Scenes(dir["ade"], 32, 32);
        var nyuTree = Scenes(dir["nyu"], 480, 640);
        var weights = Directory.CreateDirectory(dir["weights"]).FullName;
        foreach (var m in new[] { "s", "b" })
        {
            File.Copy(Fixture("released_heads", "dinov2_vits14.pth"), Path.Combine(weights, $"dinov2_vit{m}14_pretrain.pth"));
            File.Copy(Fixture("released_vit", "dinov2_vits14_reg4.pth"), Path.Combine(weights, $"dinov2_vit{m}14_reg4_pretrain.pth"));
            File.Copy(Fixture("released_heads", "dinov2_vits14_ade20k_linear_head.pth"), Path.Combine(weights, $"dinov2_vit{m}14_ade20k_linear_head.pth"));
            File.Copy(Fixture("released_heads", "dinov2_vits14_nyu_linear4_head.pth"), Path.Combine(weights, $"dinov2_vit{m}14_nyu_linear4_head.pth"));
        }
        File.WriteAllText(dir["roots.json"], "{}");
        var environment = new Dictionary<string, string>
        {
            ["REPRODUCE_WEIGHTS"] = weights,
            ["REPRODUCE_ADE20K"] = Path.Combine(adeTree, "ADEChallengeData2016"),
            ["REPRODUCE_NYU"] = Path.Combine(nyuTree, "nyu"),
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
        Assert.Equal(4, rows.Count);
        var nyu = rows.Single(x => x.GetProperty("row").GetString() == "DINOv2 ViT-S/14 NYUv2 linear4 head");
        Assert.Equal("dinov2-card-s-nyuv2", nyu.GetProperty("paper_ref").GetString());
        Assert.True(nyu.GetProperty("values")[0].GetDouble() > 0);
        var ade = rows.Single(x => x.GetProperty("row").GetString() == "DINOv2 ViT-B/14 ADE20K linear head");
        Assert.InRange(ade.GetProperty("values")[0].GetDouble(), 0, 100);
        Assert.Contains(doc.RootElement.GetProperty("rows").EnumerateArray(), x => x.GetProperty("table").GetString()!.StartsWith("token-norm outliers", StringComparison.Ordinal));
    }
}
