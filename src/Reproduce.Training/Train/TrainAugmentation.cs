using Reproduce.Training.Config;
using Reproduce.Vision.Data.Transforms;
using ConfigErasingMode = Reproduce.Training.Config.ErasingMode;
using TransformErasingMode = Reproduce.Vision.Data.Transforms.ErasingMode;

namespace Reproduce.Training.Train;

/// <summary>
/// The trainer's train-time image pipeline from <c>aug.*</c>, as timm's <c>create_transform(is_training=True)</c>
/// (<c>transforms_imagenet_train</c>) builds it with train.py's defaults:
/// RandomResizedCrop(img_size, <c>aug.scale</c>, <c>aug.ratio</c>, interpolation 'random' = bilinear or bicubic per
/// sample, train.py's <c>--train-interpolation</c> default), horizontal flip with <c>aug.hflip</c>, then RandAugment
/// (<c>aug.randaugment</c>, fill = round(255·mean), translate 45 %) or — only when RandAugment is off — ColorJitter
/// (<c>aug.color_jitter</c> for brightness, contrast and saturation), then Normalize with the model's mean/std, then
/// RandomErasing (<c>aug.random_erasing</c>, <c>aug.random_erasing_mode</c>, <c>aug.random_erasing_count</c>) on the
/// normalised image. <c>aug.three_augment=true</c> replaces all of that by DeiT III's <see cref="ThreeAugment"/> (colour
/// jitter <c>aug.color_jitter</c>, the model's mean/std). With token labeling the order is TokenLabeling's (flip, RandAugment, crop last; the crop box and
/// flips reach the label map; colour ops and erasing do not).
/// <para>
/// Every key applies to every dataset the trainer reads, the 28×28 grayscale fashion-mnist included: the crop,
/// flip and erasing are channel-agnostic; RandAugment's ops are defined on one channel as PIL's are on mode "L"
/// (Color and the saturation part of colour jitter leave a gray image unchanged, as PIL and torchvision do); the
/// fill is round(255 × 0.2860) = 73. <c>aug.no_aug=true</c> (timm's <c>--no-aug</c>) turns the whole pipeline off:
/// training images then go through the eval transform.
/// </para>
/// </summary>
public static class TrainAugmentation
{
    /// <summary>
    /// The pipeline for <paramref name="aug"/> at the eval transform's size, mean and std; null with <c>aug.no_aug</c>.
    /// A malformed <c>aug.randaugment</c> string is a <see cref="ConfigException"/> naming the key.
    /// </summary>
    public static ClassificationTrainTransform? Create(AugmentSection aug, EvalTransform eval, bool tokenLabels)
    {
        ArgumentNullException.ThrowIfNull(aug);
        ArgumentNullException.ThrowIfNull(eval);
        if (aug.NoAug) return null;
        if (aug.ThreeAugment)
        {
            if (tokenLabels) throw new ConfigException("aug.three_augment: 3-Augment cannot be combined with token labeling (token_label.enabled)", "aug.three_augment");
            return new ClassificationTrainTransform(eval.Size)
            {
                ThreeAugment = new ThreeAugment(eval.Size) { ColorJitter = aug.ColorJitter, Mean = eval.Mean, Std = eval.Std },
            };
        }
        RandAugment? randAugment = null;
        if (!string.IsNullOrEmpty(aug.Randaugment))
        {
            try
            {
                randAugment = RandAugment.Parse(aug.Randaugment) with { Fill = Normalize.FillColor(eval.Mean) };
            }
            catch (FormatException e)
            {
                throw new ConfigException($"aug.randaugment: {e.Message}", "aug.randaugment", inner: e);
            }
        }
        return new ClassificationTrainTransform(eval.Size)
        {
            Crop = new RandomResizedCrop(eval.Size) { Scale = (aug.Scale[0], aug.Scale[1]), Ratio = (aug.Ratio[0], aug.Ratio[1]), RandomInterpolation = true },
            HFlip = aug.Hflip,
            AutoAugment = randAugment,
            ColorJitter = aug.ColorJitter > 0 ? ColorJitter.Uniform(aug.ColorJitter) : null,
            Erasing = aug.RandomErasing > 0
                ? new RandomErasing { Probability = aug.RandomErasing, Mode = Mode(aug.RandomErasingMode), MaxCount = aug.RandomErasingCount }
                : null,
            Mean = eval.Mean,
            Std = eval.Std,
            Order = tokenLabels ? TrainOrder.TokenLabeling : TrainOrder.Timm,
        };
    }

    private static TransformErasingMode Mode(ConfigErasingMode mode) => mode switch
    {
        ConfigErasingMode.Const => TransformErasingMode.Const,
        ConfigErasingMode.Rand => TransformErasingMode.Rand,
        ConfigErasingMode.Pixel => TransformErasingMode.Pixel,
        _ => throw new ConfigException($"aug.random_erasing_mode: unknown mode {mode}", "aug.random_erasing_mode"),
    };
}
