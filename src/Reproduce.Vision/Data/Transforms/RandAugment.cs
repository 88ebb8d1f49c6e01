using System.Globalization;
using System.Text.RegularExpressions;
using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// timm's RandAugment (timm/data/auto_augment.py, rand_augment_transform) on tensors, with
/// TokenLabeling's extension (tlt/data/random_augment_label.py): the spatial ops (Rotate, ShearX/Y,
/// TranslateXRel/YRel) also move masks, depth and token-label maps; colour ops touch the image only.
/// Per image: <see cref="NumLayers"/> ops drawn uniformly with replacement; each runs with probability
/// 0.5 at magnitude m (m ~ N(M, mstd²) when mstd &gt; 0, U(0, M) when mstd is infinite, clipped to
/// [0, mmax]); signed arguments are negated with probability 0.5.
/// Pixel ops follow torchvision's tensor implementations (functional_tensor.py), not PIL bit for bit.
/// </summary>
public sealed record RandAugment
{
    /// <summary>The magnitude scale's denominator (timm _LEVEL_DENOM).</summary>
    public const double LevelDenominator = 10.0;

    /// <summary>The 15 ops timm draws from (the increasing variants when <see cref="Increasing"/>).</summary>
    public IReadOnlyList<AugmentOp> Ops => Increasing ? IncreasingOps : StandardOps;

    /// <summary>Mean magnitude M (timm "m", default 10).</summary>
    public double Magnitude { get; init; } = 10;
    /// <summary>Ops per image (timm "n", default 2).</summary>
    public int NumLayers { get; init; } = 2;
    /// <summary>Standard deviation of the magnitude noise (timm "mstd"); +∞ samples m ~ U(0, M).</summary>
    public double MagnitudeStd { get; init; }
    /// <summary>Upper clip of the magnitude (timm "mmax", default 10).</summary>
    public double MagnitudeMax { get; init; } = LevelDenominator;
    /// <summary>Use the ops whose severity increases with the magnitude (timm "inc1").</summary>
    public bool Increasing { get; init; }
    /// <summary>Probability that a chosen op is applied (timm: 0.5).</summary>
    public double OpProbability { get; init; } = 0.5;
    /// <summary>Maximum translation as a fraction of the image side (timm hparams translate_pct, 0.45).</summary>
    public double TranslatePct { get; init; } = 0.45;
    /// <summary>Fill of uncovered pixels, 0–255 per channel (timm: round(255·mean) = 124, 116, 104).</summary>
    public double[] Fill { get; init; } = Normalize.FillColor();
    /// <summary>Resampling of the spatial ops when <see cref="RandomInterpolation"/> is off.</summary>
    public InterpolationMode Interpolation { get; init; } = InterpolationMode.Bilinear;
    /// <summary>timm's default when the train interpolation is 'random': bilinear or bicubic per op.</summary>
    public bool RandomInterpolation { get; init; } = true;

    private static readonly AugmentOp[] StandardOps =
    [
        AugmentOp.AutoContrast, AugmentOp.Equalize, AugmentOp.Invert, AugmentOp.Rotate, AugmentOp.Posterize,
        AugmentOp.Solarize, AugmentOp.SolarizeAdd, AugmentOp.Color, AugmentOp.Contrast, AugmentOp.Brightness,
        AugmentOp.Sharpness, AugmentOp.ShearX, AugmentOp.ShearY, AugmentOp.TranslateXRel, AugmentOp.TranslateYRel,
    ];

    private static readonly AugmentOp[] IncreasingOps =
    [
        AugmentOp.AutoContrast, AugmentOp.Equalize, AugmentOp.Invert, AugmentOp.Rotate, AugmentOp.PosterizeIncreasing,
        AugmentOp.SolarizeIncreasing, AugmentOp.SolarizeAdd, AugmentOp.ColorIncreasing, AugmentOp.ContrastIncreasing,
        AugmentOp.BrightnessIncreasing, AugmentOp.SharpnessIncreasing, AugmentOp.ShearX, AugmentOp.ShearY,
        AugmentOp.TranslateXRel, AugmentOp.TranslateYRel,
    ];

    /// <summary>
    /// Parses timm's config string, e.g. <c>rand-m9-mstd0.5-inc1</c> (LV-ViT T/S/M) or
    /// <c>rand-n3-m9-mstd0.5-inc1</c> (LV-ViT-L). Sections: m (magnitude), n (ops per image), mstd
    /// (&gt; 100 means uniform), mmax, inc (non-zero enables the increasing ops; timm's bool("0") would
    /// also enable them). The weighted choice "w" is rejected, and so are a section without a value and a magnitude
    /// above mmax (timm skips the one and clamps the other).
    /// </summary>
    public static RandAugment Parse(string config)
    {
        var parts = config.Split('-');
        if (parts[0] != "rand") throw new FormatException($"RandAugment config '{config}' must start with 'rand'");
        var ra = new RandAugment();
        foreach (var part in parts.Skip(1))
        {
            var m = Regex.Match(part, @"^([a-z]*)(\d.*)$");
            // timm skips a section without a value; a typo would then pass unnoticed, so it is an error here.
            if (!m.Success) throw new FormatException($"RandAugment config '{config}': section '{part}' has no numeric value (known: m, n, mstd, mmax, inc)");
            var key = m.Groups[1].Value;
            var val = m.Groups[2].Value;
            double Num() => double.TryParse(val, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                ? d : throw new FormatException($"RandAugment config '{config}': '{val}' is not a number in section '{part}'");
            ra = key switch
            {
                "m" => ra with { Magnitude = (int)Num() },
                "n" => ra with { NumLayers = (int)Num() },
                "mstd" => ra with { MagnitudeStd = Num() > 100 ? double.PositiveInfinity : Num() },
                "mmax" => ra with { MagnitudeMax = (int)Num() },
                "inc" => ra with { Increasing = Num() != 0 },
                "w" => throw new FormatException($"RandAugment config '{config}': weighted op choice ('{part}') is not supported"),
                _ => throw new FormatException($"RandAugment config '{config}': unknown section '{part}' (known: m, n, mstd, mmax, inc)"),
            };
        }
        // timm clamps a magnitude above mmax silently; asking for one is a mistake worth naming.
        if (ra.Magnitude > ra.MagnitudeMax)
            throw new FormatException($"RandAugment config '{config}': magnitude m{ra.Magnitude} exceeds mmax {ra.MagnitudeMax} (the scale ends at mmax; give m ≤ {ra.MagnitudeMax} or a larger mmax)");
        return ra;
    }

    /// <summary>Applies <see cref="NumLayers"/> randomly chosen ops to the sample.</summary>
    public TransformSample Apply(TransformSample sample, Random rng)
    {
        if (sample.Image.DType != ScalarType.UInt8)
            throw new ArgumentException($"RandAugment: expects the uint8 image before normalisation (as timm's PIL ops), got {sample.Image.Describe()}");
        var ops = Ops;
        for (var i = 0; i < NumLayers; i++)
        {
            var op = ops[rng.Next(ops.Count)];
            sample = ApplyOp(sample, op, rng);
        }
        return sample;
    }

    /// <summary>One op with timm's gate (probability <see cref="OpProbability"/>) and magnitude noise.</summary>
    public TransformSample ApplyOp(TransformSample sample, AugmentOp op, Random rng)
    {
        if (OpProbability < 1.0 && rng.NextDouble() > OpProbability) return sample;
        var m = Magnitude;
        if (MagnitudeStd > 0)
            m = double.IsPositiveInfinity(MagnitudeStd) ? rng.Uniform(0, m) : rng.Gaussian(m, MagnitudeStd);
        m = Math.Max(0.0, Math.Min(m, MagnitudeMax));
        return ApplyAtMagnitude(sample, op, m, rng);
    }

    /// <summary>One op at magnitude <paramref name="m"/> (0–10 scale), drawing only its sign and interpolation.</summary>
    public TransformSample ApplyAtMagnitude(TransformSample sample, AugmentOp op, double m, Random rng)
    {
        var level = m / LevelDenominator;
        double Signed(double v) => rng.NextDouble() > 0.5 ? -v : v;
        double EnhanceInc() => Math.Max(0.1, 1.0 + Signed(level * 0.9));
        var img = sample.Image;
        switch (op)
        {
            case AugmentOp.AutoContrast: return sample with { Image = PixelOps.AutoContrast(img) };
            case AugmentOp.Equalize: return sample with { Image = PixelOps.Equalize(img) };
            case AugmentOp.Invert: return sample with { Image = ColorOps.Invert(img) };
            case AugmentOp.Posterize: return sample with { Image = PixelOps.Posterize(img, (int)(level * 4)) };
            case AugmentOp.PosterizeIncreasing: return sample with { Image = PixelOps.Posterize(img, 4 - (int)(level * 4)) };
            case AugmentOp.Solarize: return sample with { Image = PixelOps.Solarize(img, Scaled(img, (int)(level * 256))) };
            case AugmentOp.SolarizeIncreasing: return sample with { Image = PixelOps.Solarize(img, Scaled(img, 256 - (int)(level * 256))) };
            case AugmentOp.SolarizeAdd: return sample with { Image = PixelOps.SolarizeAdd(img, Scaled(img, (int)(level * 110)), Scaled(img, 128)) };
            case AugmentOp.Color: return sample with { Image = ColorOps.Saturation(img, level * 1.8 + 0.1) };
            case AugmentOp.ColorIncreasing: return sample with { Image = ColorOps.Saturation(img, EnhanceInc()) };
            case AugmentOp.Contrast: return sample with { Image = ColorOps.Contrast(img, level * 1.8 + 0.1) };
            case AugmentOp.ContrastIncreasing: return sample with { Image = ColorOps.Contrast(img, EnhanceInc()) };
            case AugmentOp.Brightness: return sample with { Image = ColorOps.Brightness(img, level * 1.8 + 0.1) };
            case AugmentOp.BrightnessIncreasing: return sample with { Image = ColorOps.Brightness(img, EnhanceInc()) };
            case AugmentOp.Sharpness: return sample with { Image = Filters.Sharpness(img, level * 1.8 + 0.1) };
            case AugmentOp.SharpnessIncreasing: return sample with { Image = Filters.Sharpness(img, EnhanceInc()) };
            case AugmentOp.Rotate:
                return Spatial(sample, AffineMatrix.Rotate(Signed(level * 30.0), sample.Width, sample.Height), rng);
            case AugmentOp.ShearX: return Spatial(sample, AffineMatrix.ShearX(Signed(level * 0.3)), rng);
            case AugmentOp.ShearY: return Spatial(sample, AffineMatrix.ShearY(Signed(level * 0.3)), rng);
            case AugmentOp.TranslateXRel: return Spatial(sample, AffineMatrix.Translate(Signed(level * TranslatePct) * sample.Width, 0), rng);
            case AugmentOp.TranslateYRel: return Spatial(sample, AffineMatrix.Translate(0, Signed(level * TranslatePct) * sample.Height), rng);
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "unknown RandAugment op");
        }
    }

    private TransformSample Spatial(TransformSample sample, AffineMatrix m, Random rng)
    {
        var mode = RandomInterpolation ? (rng.Next(2) == 0 ? InterpolationMode.Bilinear : InterpolationMode.Bicubic) : Interpolation;
        var fill = sample.Image.DType == ScalarType.UInt8 ? Fill : Fill.Select(v => v / 255.0).ToArray();
        return SampleGeometry.Warp(sample, m, mode, fill);
    }

    /// <summary>A 0–255 threshold or offset in the image's own range.</summary>
    private static double Scaled(Tensor img, double v255) => img.DType == ScalarType.UInt8 ? v255 : v255 / 255.0;
}
