using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// ToTensor + Normalize: x = (v/255 − mean)/std per channel for uint8 input (v/1 for float input),
/// with the ImageNet statistics of timm/data/constants.py as defaults.
/// </summary>
public static class Normalize
{
    /// <summary>ImageNet channel means (R, G, B) on 0–1 values.</summary>
    public static readonly double[] ImageNetMean = [0.485, 0.456, 0.406];

    /// <summary>ImageNet channel standard deviations (R, G, B) on 0–1 values.</summary>
    public static readonly double[] ImageNetStd = [0.229, 0.224, 0.225];

    /// <summary>
    /// timm's RandAugment fill colour: round(255·mean) per channel, i.e. (124, 116, 104) for ImageNet.
    /// </summary>
    public static double[] FillColor(IReadOnlyList<double>? mean = null) =>
        (mean ?? ImageNetMean).Select(m => (double)Math.Min(255, Math.Round(255 * m, MidpointRounding.ToEven))).ToArray();

    /// <summary>A float32 [C,H,W] image normalised with <paramref name="mean"/> and <paramref name="std"/> (ImageNet by default).</summary>
    public static Tensor Apply(Tensor img, IReadOnlyList<double>? mean = null, IReadOnlyList<double>? std = null)
    {
        mean ??= ImageNetMean;
        std ??= ImageNetStd;
        if (img.Dim != 3) throw new ArgumentException($"Normalize: expected an image [C,H,W], got {img.Describe()}");
        var c = (int)img.Size(0);
        if (mean.Count != c || std.Count != c)
            throw new ArgumentException($"Normalize: {mean.Count} means and {std.Count} stds for an image with {c} channels ({img.Describe()})");
        if (std.Any(v => v == 0)) throw new ArgumentException("Normalize: a standard deviation is zero");
        using var s = Scope.Enter();
        var x = img.DType == ScalarType.UInt8 ? img.To(ScalarType.Float32).Div(255.0) : img.To(ScalarType.Float32);
        var m = Tensor.From(mean.Select(v => (float)v).ToArray()).View(c, 1, 1);
        var sd = Tensor.From(std.Select(v => (float)v).ToArray()).View(c, 1, 1);
        return s.MoveOut(x.Sub(m).Div(sd));
    }
}
