namespace Reproduce.Scripts.Tests;

/// <summary>
/// Each paper script's <c>--profile released</c> without any weights or dataset: it prints the commands it would run and
/// every missing checkpoint with its official URL, writes nothing, and exits 0 (scripts/lib/Released.fsx).
/// </summary>
public sealed class ReleasedProfileTests
{
    [Theory]
    [InlineData("token-labeling", "https://github.com/zihangJiang/TokenLabeling/releases/download/1.0/lvvit_s-26M-224-83.3.pth.tar",
        "reproduce eval --model lvvit_s --weights <weights>/lvvit_s-26M-224-83.3.pth.tar --data imagenet")]
    [InlineData("specialization", "https://dl.fbaipublicfiles.com/dinov2/dinov2_vits14/dinov2_vits14_reg4_pretrain.pth",
        "reproduce analyze --model deit3_base_patch16_224 --weights <weights>/deit_3_base_224_1k.pth")]
    [InlineData("sta-anf", "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitb14/dinov2_vitb14_pretrain.pth",
        "reproduce analyze --model vit_base_patch14_reg4_dinov2 --weights <weights>/dinov2_vitb14_reg4_pretrain.pth")]
    public void WithoutWeightsThePlanListsTheMissingFilesWithTheirUrlsAndExitsZero(string paper, string url, string command)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["roots.json"], "{}");
        var environment = new Dictionary<string, string> { ["REPRODUCE_WEIGHTS"] = "", ["REPRODUCE_IMAGENET"] = "" };
        var r = FsiRunner.RunWith($"scripts/{paper}.fsx", environment,
            "--profile", "released", "--results", dir["results"], "--data-config", dir["roots.json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"{paper}, released profile", r.Stdout);
        Assert.Contains("weights: not configured (set REPRODUCE_WEIGHTS=/path", r.Stdout);
        Assert.Contains(url, r.Stdout);
        Assert.Contains(command, r.Stdout);
        Assert.Contains("Nothing was run (exit 0).", r.Stdout);
        Assert.False(Directory.Exists(dir["results"]), $"the plan wrote {dir["results"]}");
    }

    [Fact]
    public void AWeightsFolderIsReadAndOnlyWhatIsMissingIsListed()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["weights"]);
        File.WriteAllText(dir["weights/lvvit_t.pth"], "stand-in");
        File.WriteAllText(dir["roots.json"], $$"""{ "weights": "{{dir["weights"]}}" }""");
        var r = FsiRunner.RunWith("scripts/token-labeling.fsx", new Dictionary<string, string> { ["REPRODUCE_WEIGHTS"] = "", ["REPRODUCE_IMAGENET"] = "" },
            "--profile", "released", "--results", dir["results"], "--data-config", dir["roots.json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"Weights folder: {dir["weights"]}", r.Stdout);
        Assert.Contains("Missing weights (12;", r.Stdout);
        Assert.DoesNotContain("releases/download/v0.2.0/lvvit_t.pth", r.Stdout);
        Assert.Contains($"--weights {dir["weights/lvvit_t.pth"]}", r.Stdout);
        Assert.Contains("imagenet: not configured", r.Stdout);
    }
}
