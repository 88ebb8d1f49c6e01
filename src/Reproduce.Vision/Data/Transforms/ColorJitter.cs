using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// torchvision's ColorJitter: factors b ~ U[max(0, 1 − B), 1 + B], c, s likewise, hue shift
/// h ~ U[−H, H]; the four adjustments run in a random order and those with strength 0 are skipped.
/// timm's <c>--color-jitter 0.4</c> is ColorJitter(0.4, 0.4, 0.4) (no hue), used only when
/// RandAugment is off; DeiT-III's 3-Augment adds ColorJitter(0.3, 0.3, 0.3).
/// </summary>
public sealed record ColorJitter(double Brightness, double Contrast, double Saturation, double Hue = 0)
{
    /// <summary>The same strength for brightness, contrast and saturation.</summary>
    public static ColorJitter Uniform(double strength) => new(strength, strength, strength);

    /// <summary>Adjusts the image (any dense targets are untouched).</summary>
    public Tensor Apply(Tensor image, Random rng)
    {
        if (Hue is < 0 or > 0.5) throw new ArgumentOutOfRangeException(nameof(Hue), $"ColorJitter: hue strength {Hue} is outside [0, 0.5]");
        var order = rng.Permutation(4);
        double Factor(double strength) => rng.Uniform(Math.Max(0, 1 - strength), 1 + strength);
        double? b = Brightness > 0 ? Factor(Brightness) : null;
        double? c = Contrast > 0 ? Factor(Contrast) : null;
        double? s = Saturation > 0 ? Factor(Saturation) : null;
        double? h = Hue > 0 ? rng.Uniform(-Hue, Hue) : null;
        using var scope = Scope.Enter();
        var img = image;
        foreach (var fn in order)
        {
            img = fn switch
            {
                0 when b is { } bf => ColorOps.Brightness(img, bf),
                1 when c is { } cf => ColorOps.Contrast(img, cf),
                2 when s is { } sf => ColorOps.Saturation(img, sf),
                3 when h is { } hf => ColorOps.Hue(img, hf),
                _ => img,
            };
        }
        return scope.MoveOut(ReferenceEquals(img, image) ? image.Alias() : img);
    }
}
