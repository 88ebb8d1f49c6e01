using System.Text.Json.Nodes;
using Reproduce.Training.Config;
using Reproduce.Training.Pretraining;
using Reproduce.Vision.Models;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>
/// dinov2's position-embedding resampling with <c>interpolate_offset</c> 0.1 (<c>model.interpolate_offset</c>) against
/// tests/fixtures/ssl/interpolate.json (gen_interpolate.py, Debian's PyTorch), and its use by a dynamic-size ViT.
/// </summary>
public sealed class PosEmbedOffsetTests
{
    private static JsonObject Fixture() =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "ssl", "interpolate.json")))!;

    private static float[] Floats(JsonNode? n) => n!.AsArray().Select(v => (float)v!.GetValue<double>()).ToArray();

    [Fact]
    public void TheOffsetResamplingEqualsDinov2sAndDiffersFromTheOutputSizeForm()
    {
        foreach (var c in Fixture()["cases"]!.AsArray())
        {
            using var scope = Scope.Enter();
            var (m, side, dim) = (c!["grid"]!.GetValue<int>(), c["side"]!.GetValue<int>(), c["dim"]!.GetValue<int>());
            var pos = Tensor.From(Floats(c["pos_embed"]), [1, 1 + m * m, dim]);
            var expected = Floats(c["expected"]);
            var got = PosEmbedResampling.ResampleWithOffset(pos, (side, side), 0.1).ToArray<float>();
            Assert.Equal(expected.Length, got.Length);
            var worst = expected.Zip(got).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(worst <= 1e-5, $"{m}→{side}: max |Δ| {worst}");
            // the fixture's cases are ones where the offset matters
            Assert.True(c["max_diff_to_size_form"]!.GetValue<double>() > 0.1);
            var timm = PosEmbedResampling.ResampleAbsPosEmbed(pos, (side, side), antialias: false).ToArray<float>();
            Assert.True(expected.Zip(timm).Max(p => Math.Abs(p.First - p.Second)) > 0.1, "the output-size form should differ");
        }
    }

    [Fact]
    public void ADynamicViTUsesItForLocalCropsAndKeepsItsOwnGrid()
    {
        using var scope = Scope.Enter();
        var config = new VitConfig { ImgSize = 32, PatchSize = 8, NumClasses = 0, EmbedDim = 8, Depth = 1, NumHeads = 2, DynamicImgSize = true, InterpolateOffset = 0.1 };
        using var vit = new VisionTransformer(config);
        using var plain = new VisionTransformer(config with { InterpolateOffset = null });
        plain.LoadStateDict(vit.StateDict());
        var tokens = Torch.Torch.Zeros([1, 4, 8]);
        var expected = PosEmbedResampling.ResampleWithOffset(vit.PosEmbed, (2, 2), 0.1).ToArray<float>();
        var got = vit.PosEmbedTokens(tokens, (2, 2)).Sub(Tensor.Cat([vit.ClsToken!, Torch.Torch.Zeros([1, 4, 8])], 1)).ToArray<float>();
        Assert.Equal(expected, got);
        Assert.NotEqual(got, plain.PosEmbedTokens(tokens, (2, 2)).Sub(Tensor.Cat([plain.ClsToken!, Torch.Torch.Zeros([1, 4, 8])], 1)).ToArray<float>());
        // at its own grid nothing is resampled
        Assert.Equal(plain.PosEmbedTokens(Torch.Torch.Zeros([1, 16, 8]), (4, 4)).ToArray<float>(), vit.PosEmbedTokens(Torch.Torch.Zeros([1, 16, 8]), (4, 4)).ToArray<float>());
        // and the DINOv2 backbone keeps the key
        Assert.Equal(0.1, DinoV2Recipe.Backbone(ModelSection.Resolve("vit_tiny_scenes64", ["interpolate_offset=0.1"]), new SslSection { LocalCropSize = 16 }).InterpolateOffset);
    }
}
