using System.Text.RegularExpressions;
using Reproduce.Training.Config;
using Reproduce.Training.Pretraining;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Config;

/// <summary>
/// The committed DINOv2 recipes (configs/dinov2-*.json, docs/dinov2.md): accepted by <c>reproduce train --check</c>,
/// every value citing its source, and resolving to dinov2's short-schedule numbers.
/// </summary>
public partial class DinoV2RecipeConfigsTests
{
    private static string Root()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Reproduce.sln"))) root = root.Parent;
        return root?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    public static TheoryData<string, int, int> Recipes() => new()
    {
        { "dinov2-vit-b14-in1k-short.json", 768, 12 },
        { "dinov2-vit-l14-in1k-short.json", 1024, 24 },
    };

    [Theory]
    [MemberData(nameof(Recipes))]
    public void TrainCheckAcceptsTheRecipe(string file, int dim, int depth)
    {
        var path = Path.Combine(Root(), "configs", file);
        var r = CliRunner.Run("train", "--config", path, "--check");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Contains("train --check: accepted", r.Stdout);
        var lines = File.ReadAllLines(path);
        foreach (var (text, line) in lines.Select((l, i) => (l, i + 1)).Where(l => Value().IsMatch(l.Item1)))
            Assert.True(text.Contains("//", StringComparison.Ordinal), $"{file}:{line}: the value has no source comment: {text.Trim()}");

        var c = RunConfig.Load(path);
        Assert.Equal(SslMethod.DinoV2, c.Ssl.Method);
        var vit = DinoV2Recipe.Backbone(c.Model.Resolve(), c.Ssl);
        Assert.Equal((dim, depth, 14, 224), (vit.EmbedDim, vit.Depth, vit.PatchSize, vit.ImgSize));
        Assert.Equal(1e-5, vit.InitValues);
        Assert.Equal(0.1, vit.InterpolateOffset);
        Assert.Equal(0, vit.NumClasses);
        // 32 processes x 64 = 2048 images a step; ImageNet-1k's 1,281,167 training images do not set the epoch (1250 iterations)
        var it = DinoV2Recipe.Iterations(c, 1_281_167, 2048);
        Assert.Equal(new DinoV2Iterations(125_000, 1250, 12_500, 37_500, 1250), it);
        Assert.Equal(0.004 * Math.Sqrt(2), DinoV2Recipe.PeakLr(c, 64, 32), 15);
        Assert.Equal((98 / 14, 224 / 14), (c.Ssl.LocalCropSize / vit.PatchSize, vit.ImgSize / vit.PatchSize));
    }

    // A line setting a key to a value (not opening an object or a list).
    [GeneratedRegex("^\\s*\"[a-z_0-9]+\"\\s*:\\s*[^\\s{]")]
    private static partial Regex Value();
}
