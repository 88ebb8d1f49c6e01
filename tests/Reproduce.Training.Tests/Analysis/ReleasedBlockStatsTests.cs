using System.Text.Json;
using Reproduce.Torch;
using Reproduce.Training.Analysis;
using Reproduce.Training.Checkpoints.Released;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Analysis;

/// <summary>
/// <c>reproduce analyze</c>'s per-block statistics ([CLS]/patch and patch/patch cosines before and after norm1, patch-token
/// norm statistics and outlier share) on released-layout files (tests/fixtures/released_vit: DeiT-III's training
/// checkpoint, a DINOv2 hub backbone with 4 registers; real depth, width 8) equal those of the PyTorch transcription of
/// the official model code on the same file and input (make_block_stats.py).
/// </summary>
[Collection(nameof(SerialTests))]
public class ReleasedBlockStatsTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "released_vit", name);

    [Theory]
    [InlineData("deit3_small.pth", "deit3_small_patch16_224", 32, 8, 5)]
    [InlineData("dinov2_vits14_reg4.pth", "vit_small_patch14_reg4_dinov2", 28, 14, 0)]
    public void PerBlockStatisticsEqualPyTorch(string file, string model, int imgSize, int patchSize, int classes)
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(Fixture("reference.json")));
        using var expected = JsonDocument.Parse(File.ReadAllText(Fixture("block_stats.json")));
        var input = reference.RootElement.GetProperty(file);
        using var scope = Scope.Enter();
        using var vit = (VisionTransformer)ModelRegistry.Get(model)
            .With(c => c with { EmbedDim = 8, NumHeads = 2, ImgSize = imgSize, PatchSize = patchSize, NumClasses = classes }).Create();
        ModelWeights.LoadStrict(vit, Fixture(file));
        var x = Tensor.From(input.GetProperty("input").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray())
            .Reshape(input.GetProperty("input_shape").EnumerateArray().Select(v => v.GetInt64()).ToArray());
        var stats = TokenAnalysis.Analyze(vit, x);
        var want = expected.RootElement.GetProperty(file).EnumerateArray().ToList();
        Assert.Equal(want.Count, stats.Count);
        for (var i = 0; i < stats.Count; i++)
        {
            var w = want[i];
            var b = stats[i];
            void Close(string key, double got, double tolerance) =>
                Assert.True(Math.Abs(got - w.GetProperty(key).GetDouble()) <= tolerance, $"block {i} {key}: {got} vs PyTorch {w.GetProperty(key).GetDouble()}");
            Close("cls_patch_cos_before", b.ClsPatchCosineBefore, 1e-4);
            Close("cls_patch_cos_after", b.ClsPatchCosineAfter, 1e-4);
            Close("patch_patch_cos_before", b.PatchPatchCosineBefore, 1e-4);
            Close("patch_patch_cos_after", b.PatchPatchCosineAfter, 1e-4);
            // Norms grow to ~60 over 12 blocks: 1e-4 relative.
            var scale = w.GetProperty("norm_max").GetDouble();
            Close("norm_mean", b.NormMean, 1e-4 * scale);
            Close("norm_std", b.NormStd, 1e-4 * scale);
            Close("norm_median", b.NormMedian, 1e-4 * scale);
            Close("norm_max", b.NormMax, 1e-4 * scale);
            Close("outlier_share", b.OutlierShare, 1e-12);
        }
    }
}
