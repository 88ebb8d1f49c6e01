using Reproduce.Torch;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Training.Pretraining;

/// <summary>Which crop of the multi-crop a photometric plan is for; the three get different blur/solarize settings.</summary>
public enum SslCropKind
{
    /// <summary>The first global crop.</summary>
    Global1,
    /// <summary>The second global crop (the only one that may be solarised).</summary>
    Global2,
    /// <summary>A local crop.</summary>
    Local,
}

/// <summary>The photometric draws of one crop: null for an operation that is not applied.</summary>
/// <param name="Jitter">Colour jitter (applied with probability 0.8).</param>
/// <param name="JitterRng">Seed of the jitter's own draws (factors and order).</param>
/// <param name="Grayscale">Grayscale (probability 0.2).</param>
/// <param name="BlurSigma">Gaussian blur σ ~ U(0.1, 2), kernel 9, or null.</param>
/// <param name="Solarize">Solarize at 128 (second global crop, probability 0.2).</param>
public sealed record SslPhotometricPlan(bool Jitter, int JitterRng, bool Grayscale, double? BlurSigma, bool Solarize);

/// <summary>
/// DINOv2's photometric pipeline per crop (dinov2 <c>data/augmentations.py</c> with <c>data/transforms.py</c>), in its
/// order: colour jitter (brightness 0.4, contrast 0.4, saturation 0.2, hue 0.1) with probability 0.8; grayscale with
/// probability 0.2; Gaussian blur (kernel 9, σ ~ U(0.1, 2)); on the second global crop solarize (threshold 128) with
/// probability 0.2; then normalisation with ImageNet's mean and std.
/// <para>
/// Blur probabilities: dinov2 asks for 1.0 / 0.1 / 0.5 (first global / second global / local, as DINO and BYOL), but
/// its <c>GaussianBlur</c> passes 1 − p to torchvision's <c>RandomApply</c>, which applies with probability p, so the
/// released models were trained with 0 / 0.9 / 0.5 (facebookresearch/dinov2 PR #411). <see cref="AsReleased"/>
/// (the default) follows the code; false follows the stated values.
/// </para>
/// </summary>
public sealed record DinoPhotometric
{
    /// <summary>Use the blur probabilities the reference code applies (0 / 0.9 / 0.5) rather than the ones it states (1 / 0.1 / 0.5).</summary>
    public bool AsReleased { get; init; } = true;

    /// <summary>The blur probability for <paramref name="kind"/>.</summary>
    public double BlurProbability(SslCropKind kind) => (kind, AsReleased) switch
    {
        (SslCropKind.Global1, true) => 0.0,
        (SslCropKind.Global1, false) => 1.0,
        (SslCropKind.Global2, true) => 0.9,
        (SslCropKind.Global2, false) => 0.1,
        _ => 0.5,
    };

    /// <summary>The colour jitter DINO uses.</summary>
    public static readonly ColorJitter Jitter = new(0.4, 0.4, 0.2, 0.1);

    /// <summary>Draws the plan of one crop.</summary>
    public SslPhotometricPlan Plan(SslCropKind kind, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var jitter = rng.Chance(0.8);
        var jitterRng = rng.Next();
        var gray = rng.Chance(0.2);
        double? sigma = rng.Chance(BlurProbability(kind)) ? rng.Uniform(0.1, 2.0) : null;
        var solarize = kind == SslCropKind.Global2 && rng.Chance(0.2);
        return new SslPhotometricPlan(jitter, jitterRng, gray, sigma, solarize);
    }

    /// <summary>Applies <paramref name="plan"/> to a uint8 image [C, H, W] and normalises it.</summary>
    public static Tensor Apply(Tensor image, SslPhotometricPlan plan)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(plan);
        if (image.DType != ScalarType.UInt8 || image.Dim != 3)
            throw new ArgumentException($"DINO photometric augmentation: expected a uint8 image [C, H, W], got {image.Describe()}");
        using var scope = Scope.Enter();
        var img = image;
        if (plan.Jitter) img = Jitter.Apply(img, new Random(plan.JitterRng));
        if (plan.Grayscale) img = ColorOps.Grayscale(img, (int)img.Size(0));
        if (plan.BlurSigma is { } sigma) img = Filters.GaussianBlur(img, 9, sigma);
        if (plan.Solarize) img = PixelOps.Solarize(img, 128);
        return scope.MoveOut(Normalize.Apply(img));
    }
}
