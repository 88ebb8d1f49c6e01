using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>The order of the geometric steps of <see cref="ClassificationTrainTransform"/>.</summary>
public enum TrainOrder
{
    /// <summary>timm transforms_imagenet_train: RandomResizedCrop, flip, RandAugment or colour jitter.</summary>
    Timm,
    /// <summary>
    /// TokenLabeling's label_transforms_factory: flip, RandAugment (spatial ops also on the score map),
    /// RandomResizedCrop last (its box is kept for RoIAlign). Colour jitter is not used with RandAugment.
    /// </summary>
    TokenLabeling,
}

/// <summary>
/// The ImageNet training pipeline of timm / LV-ViT (docs/papers/token-labeling.md §1.3, §1.5) on a uint8 sample:
/// geometric and colour augmentation, then Normalize and RandomErasing on the float image.
/// LV-ViT defaults: RandomResizedCrop 224 (scale 0.08–1, ratio 3/4–4/3, random interpolation), hflip 0.5,
/// <c>rand-m9-mstd0.5-inc1</c>, random erasing 0.25 in pixel mode, ImageNet mean/std.
/// </summary>
public sealed record ClassificationTrainTransform(int ImageSize)
{
    /// <summary>The crop step (its scale, ratio and interpolation).</summary>
    public RandomResizedCrop Crop { get; init; } = new RandomResizedCrop(ImageSize) { RandomInterpolation = true };
    /// <summary>Probability of a horizontal flip.</summary>
    public double HFlip { get; init; } = 0.5;
    /// <summary>Probability of a vertical flip (timm default 0).</summary>
    public double VFlip { get; init; }
    /// <summary>RandAugment, or null for none.</summary>
    public RandAugment? AutoAugment { get; init; } = RandAugment.Parse("rand-m9-mstd0.5-inc1");
    /// <summary>Colour jitter, used only when <see cref="AutoAugment"/> is null (timm semantics).</summary>
    public ColorJitter? ColorJitter { get; init; } = ColorJitter.Uniform(0.4);
    /// <summary>Random erasing on the normalised image, or null.</summary>
    public RandomErasing? Erasing { get; init; } = new RandomErasing { Probability = 0.25, Mode = ErasingMode.Pixel, MaxCount = 1 };
    /// <summary>Normalisation means.</summary>
    public IReadOnlyList<double> Mean { get; init; } = Normalize.ImageNetMean;
    /// <summary>Normalisation standard deviations.</summary>
    public IReadOnlyList<double> Std { get; init; } = Normalize.ImageNetStd;
    /// <summary>Step order: timm's by default; LV-ViT with token labels uses <see cref="TrainOrder.TokenLabeling"/>.</summary>
    public TrainOrder Order { get; init; } = TrainOrder.Timm;

    /// <summary>
    /// DeiT III's 3-Augment in place of every step above (crop, flips, RandAugment/jitter, normalise, erasing), as
    /// deit's main.py replaces the training transform with it; null = the pipeline above.
    /// </summary>
    public ThreeAugment? ThreeAugment { get; init; }

    /// <summary>The augmented sample with a normalised float32 [3,size,size] image and its crop box.</summary>
    public TransformSample Apply(TransformSample sample, Random rng)
    {
        if (ThreeAugment is not null)
        {
            if (sample.TokenLabel is not null) throw new InvalidOperationException("ClassificationTrainTransform: 3-Augment does not carry token-label maps");
            return ThreeAugment.Apply(sample, rng);
        }
        if (Order == TrainOrder.Timm && sample.TokenLabel is not null && AutoAugment is not null)
            throw new InvalidOperationException("ClassificationTrainTransform: samples with token labels need TrainOrder.TokenLabeling when RandAugment is on (its spatial ops must reach the score map before the crop)");
        var crop = Crop with { OutputHeight = ImageSize, OutputWidth = ImageSize };
        if (Order == TrainOrder.TokenLabeling)
        {
            sample = Flips(sample, rng);
            sample = AutoAugment is not null ? AutoAugment.Apply(sample, rng) : Jitter(sample, rng);
            sample = crop.Apply(sample, rng);
        }
        else
        {
            sample = crop.Apply(sample, rng);
            sample = Flips(sample, rng);
            sample = AutoAugment is not null ? AutoAugment.Apply(sample, rng) : Jitter(sample, rng);
        }
        var image = Normalize.Apply(sample.Image, Mean, Std);
        if (Erasing is not null) image = Erasing.Apply(image, rng);
        return sample with { Image = image };
    }

    private TransformSample Flips(TransformSample sample, Random rng)
    {
        if (HFlip > 0 && rng.NextDouble() < HFlip) sample = SampleGeometry.HFlip(sample);
        if (VFlip > 0 && rng.NextDouble() < VFlip)
        {
            if (sample.TokenLabel is not null) throw new InvalidOperationException("ClassificationTrainTransform: vertical flips of token-label maps are not supported");
            sample = sample.MapDense(Geometry.VFlip, Geometry.VFlip, Geometry.VFlip);
        }
        return sample;
    }

    private TransformSample Jitter(TransformSample sample, Random rng) =>
        ColorJitter is null ? sample : sample with { Image = ColorJitter.Apply(sample.Image, rng) };
}
