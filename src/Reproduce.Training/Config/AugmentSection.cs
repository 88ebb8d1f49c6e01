using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Training.Config;

/// <summary>What random erasing fills the erased box with (timm's <c>--remode</c>).</summary>
public enum ErasingMode
{
    /// <summary>Zeros.</summary>
    Const,
    /// <summary>One random colour per box.</summary>
    Rand,
    /// <summary>Random per pixel.</summary>
    Pixel,
}

/// <summary>
/// Augmentation and label mixing. Defaults are DeiT's ImageNet recipe (RandAugment m9, random erasing 0.25,
/// mixup 0.8, cutmix 1.0, label smoothing 0.1). LV-ViT with token labeling sets mixup and cutmix to 0 and
/// <see cref="Mixtoken"/> on.
/// </summary>
public sealed record AugmentSection : IConfigSection
{
    /// <summary>Mixup Beta(α, α) parameter; 0 = off.</summary>
    public double Mixup { get; init; } = 0.8;
    /// <summary>CutMix Beta(α, α) parameter; 0 = off.</summary>
    public double Cutmix { get; init; } = 1.0;
    /// <summary>Probability of applying mixup or cutmix to a batch.</summary>
    public double MixProb { get; init; } = 1.0;
    /// <summary>Probability of cutmix instead of mixup when both are on.</summary>
    public double SwitchProb { get; init; } = 0.5;
    /// <summary>MixToken (CutMix on the patch tokens, LV-ViT).</summary>
    public bool Mixtoken { get; init; }
    /// <summary>Label smoothing ε.</summary>
    public double LabelSmoothing { get; init; } = 0.1;
    /// <summary>timm RandAugment string (e.g. <c>rand-m9-mstd0.5-inc1</c>); null or empty = off.</summary>
    public string? Randaugment { get; init; } = "rand-m9-mstd0.5-inc1";
    /// <summary>Random erasing probability; 0 = off.</summary>
    public double RandomErasing { get; init; } = 0.25;
    /// <summary>Random erasing fill.</summary>
    public ErasingMode RandomErasingMode { get; init; } = ErasingMode.Pixel;
    /// <summary>Boxes erased per image.</summary>
    public int RandomErasingCount { get; init; } = 1;
    /// <summary>Colour jitter strength (used only without RandAugment); 0 = off.</summary>
    public double ColorJitter { get; init; } = 0.4;
    /// <summary>Horizontal flip probability.</summary>
    public double Hflip { get; init; } = 0.5;
    /// <summary>RandomResizedCrop area range.</summary>
    public IReadOnlyList<double> Scale { get; init; } = [0.08, 1.0];
    /// <summary>
    /// timm's <c>--no-aug</c>: no train-time image augmentation at all (the training images go through the eval
    /// transform; RandAugment, colour jitter, flips, crops and random erasing are off whatever their keys say).
    /// Label smoothing, Mixup/CutMix and MixToken are label/batch-level and still apply.
    /// </summary>
    public bool NoAug { get; init; }
    /// <summary>
    /// DeiT III's 3-Augment (facebookresearch/deit augment.py <c>new_data_aug_generator</c>) replaces the whole
    /// train-time pipeline: RandomResizedCrop (0.08–1, bicubic), flip, one of grayscale / solarize / blur, colour
    /// jitter <see cref="ColorJitter"/>, normalise; no RandAugment and no random erasing whatever their keys say.
    /// </summary>
    [ConfigOmitWhenDefault]
    public bool ThreeAugment { get; init; }

    /// <summary>RandomResizedCrop aspect-ratio range.</summary>
    public IReadOnlyList<double> Ratio { get; init; } = [3.0 / 4.0, 4.0 / 3.0];

    /// <inheritdoc/>
    public void Validate(string prefix)
    {
        ConfigCheck.NonNegative(Mixup, prefix, "mixup");
        ConfigCheck.NonNegative(Cutmix, prefix, "cutmix");
        ConfigCheck.Probability(MixProb, prefix, "mix_prob");
        ConfigCheck.Probability(SwitchProb, prefix, "switch_prob");
        ConfigCheck.Require(LabelSmoothing is >= 0 and < 1, prefix, "label_smoothing", $"must be in [0, 1) (got {LabelSmoothing})");
        ConfigCheck.Probability(RandomErasing, prefix, "random_erasing");
        ConfigCheck.Require(RandomErasingCount >= 1, prefix, "random_erasing_count", $"must be ≥ 1 (got {RandomErasingCount})");
        ConfigCheck.NonNegative(ColorJitter, prefix, "color_jitter");
        ConfigCheck.Probability(Hflip, prefix, "hflip");
        ConfigCheck.Require(Scale.Count == 2 && Scale[0] > 0 && Scale[0] <= Scale[1] && Scale[1] <= 1, prefix, "scale", "must be [min, max] with 0 < min ≤ max ≤ 1");
        ConfigCheck.Require(Ratio.Count == 2 && Ratio[0] > 0 && Ratio[0] <= Ratio[1], prefix, "ratio", "must be [min, max] with 0 < min ≤ max");
        // Parsed even when no_aug turns the pipeline off: a malformed value is refused whatever else is set.
        if (!string.IsNullOrEmpty(Randaugment))
        {
            try
            {
                _ = RandAugment.Parse(Randaugment);
            }
            catch (FormatException e)
            {
                ConfigCheck.Require(false, prefix, "randaugment", e.Message);
            }
        }
    }
}
