using Reproduce.Torch;
using Reproduce.Vision.Data.Transforms;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Inference;

/// <summary>
/// The eval transform of a registered model (docs/protocols.md §1.3): resize the shorter side to ⌊size / crop_pct⌋,
/// center-crop, normalise. Per family:
/// <list type="bullet">
/// <item>LV-ViT-T/S (<c>lvvit_t</c>, <c>lvvit_s*</c>): crop_pct 0.9, bicubic; LV-ViT-M/L: 1.0, bicubic (TokenLabeling, tlt/models/lvvit.py).</item>
/// <item>DeiT / DeiT-III (<c>deit_*</c>, <c>deit3_*</c>): timm's config (deit.py <c>_cfg</c>: crop_pct 0.9, bicubic), 384 models 1.0. The DeiT repository's
/// own 0.875 is the other choice; it is selectable through the config's <c>crop_pct</c>, not here.</item>
/// <item>The quick-profile Fashion-MNIST / fashion-scenes / fashion-objects models (<c>*_fm28</c>, <c>*_scenes64</c>,
/// <c>*_objects64</c>): their data has the model's
/// size already, so crop_pct 1.0 (no crop); 1-channel models normalise with Fashion-MNIST's mean 0.2860 and std 0.3530.</item>
/// <item>NFNet-F0…F6 (<c>dm_nfnet_f*</c>): timm's pretrained configs, bicubic, crop_pct 0.9, 0.91, 0.92, 0.94, 0.951, 0.954,
/// 0.956 at 256…576 px (timm resizes these with crop_mode 'squash', both sides to size/crop_pct; here the shorter side, as
/// every family). TokenLabeling's generate_label.py annotates with the model's bicubic at crop 1.0, as <c>reproduce annotate</c>.</item>
/// <item>DINOv2 backbones (<c>*_dinov2</c>, ± registers): timm's <c>vit_*_patch14[_reg4]_dinov2.lvd142m</c> configs,
/// crop_pct 1.0, bicubic (vision_transformer.py's <c>_cfg</c> interpolation), ImageNet mean and std.</item>
/// <item>Everything else (other ViTs, ResNet): timm's generic default, 0.875 bilinear. timm's per-model configs for these
/// are not in docs/protocols.md, so this default is used rather than an invented value.</item>
/// </list>
/// Three-channel models normalise with the ImageNet mean and std.
/// </summary>
public static class ModelEvalSettings
{
    /// <summary>Fashion-MNIST pixel mean (0–1 scale), as <c>FashionMnist.Batch</c> uses.</summary>
    public const double FashionMnistMean = 0.2860;

    /// <summary>Fashion-MNIST pixel standard deviation (0–1 scale).</summary>
    public const double FashionMnistStd = 0.3530;

    private const string DmNfnet = "dm_nfnet_f";

    // timm's pretrained configs of dm_nfnet_f0…f6 (crop_pct at their test_input_size).
    private static readonly double[] DmNfnetCropPct = [0.9, 0.91, 0.92, 0.94, 0.951, 0.954, 0.956];

    /// <summary>The eval transform for <paramref name="entry"/> at its configured resolution.</summary>
    public static EvalTransform For(ModelEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var name = entry.Name;
        var size = entry.Config.ImgSize;
        var (cropPct, interpolation) =
            name.EndsWith("_fm28", StringComparison.Ordinal) || name.EndsWith("_scenes64", StringComparison.Ordinal)
                || name.EndsWith("_objects64", StringComparison.Ordinal) ? (1.0, InterpolationMode.Bilinear)
            : name.StartsWith("lvvit_m", StringComparison.Ordinal) || name.StartsWith("lvvit_l", StringComparison.Ordinal) ? (1.0, InterpolationMode.Bicubic)
            : name.StartsWith("lvvit_", StringComparison.Ordinal) ? (0.9, InterpolationMode.Bicubic)
            : name.StartsWith("deit", StringComparison.Ordinal) ? (size >= 384 ? 1.0 : 0.9, InterpolationMode.Bicubic)
            : name.EndsWith("_dinov2", StringComparison.Ordinal) ? (1.0, InterpolationMode.Bicubic)
            : name.StartsWith(DmNfnet, StringComparison.Ordinal) && name.Length == DmNfnet.Length + 1 && char.IsAsciiDigit(name[^1])
                && name[^1] - '0' < DmNfnetCropPct.Length ? (DmNfnetCropPct[name[^1] - '0'], InterpolationMode.Bicubic)
            : (0.875, InterpolationMode.Bilinear);
        var transform = new EvalTransform(size) { CropPct = cropPct, Interpolation = interpolation };
        return InChans(entry) == 1 ? transform with { Mean = [FashionMnistMean], Std = [FashionMnistStd] } : transform;
    }

    /// <summary>Classes of the model's classifier (0 = none: a backbone), or null for a model family without one.</summary>
    public static int? NumClasses(ModelEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Config switch
        {
            VitConfig v => v.NumClasses,
            ResNetConfig r => r.NumClasses,
            NfNetConfig f => f.NumClasses,
            _ => null,
        };
    }

    /// <summary>Input channels of the model (1 or 3).</summary>
    public static int InChans(ModelEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Config switch
        {
            VitConfig v => v.InChans,
            ResNetConfig r => r.InChans,
            NfNetConfig f => f.InChans,
            _ => 3,
        };
    }
}
