using Reproduce.Training.Inference;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Inference;

/// <summary>The per-family eval transforms of docs/protocols.md §1.3 (crop_pct → resize of the shorter side, interpolation).</summary>
public class ModelEvalSettingsTests
{
    [Theory]
    [InlineData("lvvit_s", 0.9, 248, InterpolationMode.Bicubic)]
    [InlineData("lvvit_t", 0.9, 248, InterpolationMode.Bicubic)]
    [InlineData("lvvit_m", 1.0, 224, InterpolationMode.Bicubic)]
    [InlineData("lvvit_l_448", 1.0, 448, InterpolationMode.Bicubic)]
    [InlineData("deit_small_patch16_224", 0.9, 248, InterpolationMode.Bicubic)]
    [InlineData("deit_base_patch16_384", 1.0, 384, InterpolationMode.Bicubic)]
    [InlineData("deit3_small_patch16_224", 0.9, 248, InterpolationMode.Bicubic)]
    [InlineData("vit_small_patch14_dinov2", 1.0, 518, InterpolationMode.Bicubic)]
    [InlineData("vit_base_patch14_reg4_dinov2", 1.0, 518, InterpolationMode.Bicubic)]
    [InlineData("vit_base_patch16_224", 0.875, 256, InterpolationMode.Bilinear)]
    [InlineData("resnet50", 0.875, 256, InterpolationMode.Bilinear)]
    [InlineData("dm_nfnet_f0", 0.9, 284, InterpolationMode.Bicubic)]
    [InlineData("dm_nfnet_f6", 0.956, 602, InterpolationMode.Bicubic)]
    [InlineData("vit_tiny_fm28", 1.0, 28, InterpolationMode.Bilinear)]
    public void CropPctResizeAndInterpolationPerFamily(string model, double cropPct, int scaleSize, InterpolationMode interpolation)
    {
        var t = ModelEvalSettings.For(ModelRegistry.Get(model));
        Assert.Equal(cropPct, t.CropPct);
        Assert.Equal(scaleSize, t.ScaleSize);
        Assert.Equal(interpolation, t.Interpolation);
    }

    [Fact]
    public void OneChannelModelsUseFashionMnistStatisticsAndOthersImageNet()
    {
        var fm = ModelEvalSettings.For(ModelRegistry.Get("vit_tiny_fm28"));
        Assert.Equal([0.2860], fm.Mean);
        Assert.Equal([0.3530], fm.Std);
        var rgb = ModelEvalSettings.For(ModelRegistry.Get("deit_small_patch16_224"));
        Assert.Equal([0.485, 0.456, 0.406], rgb.Mean);
        Assert.Equal([0.229, 0.224, 0.225], rgb.Std);
    }
}
