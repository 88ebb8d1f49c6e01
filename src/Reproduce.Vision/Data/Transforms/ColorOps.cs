using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// Colour adjustments on [C,H,W] RGB images (uint8 in 0–255 or floating point in 0–1), with
/// torchvision's tensor semantics (functional_tensor.py, 0.14), which approximate PIL's ImageEnhance:
/// blend(a, b, r) = clamp(r·a + (1 − r)·b, 0, bound), cast back to the input dtype by truncation.
/// </summary>
public static class ColorOps
{
    /// <summary>The largest value of an image dtype: 255 for uint8, 1 for floating point.</summary>
    public static double Bound(Tensor img) => img.DType.IsFloatingPoint() ? 1.0 : 255.0;

    /// <summary>clamp(r·a + (1 − r)·b, 0, bound) in a's dtype (truncating for integers).</summary>
    public static Tensor Blend(Tensor a, Tensor b, double ratio)
    {
        using var s = Scope.Enter();
        var bound = Bound(a);
        var mixed = a.Mul(ratio).Add(b.Mul(1.0 - ratio)).Clamp(0, bound);
        return s.MoveOut(mixed.To(a.DType));
    }

    /// <summary>
    /// Luma L = 0.2989·R + 0.587·G + 0.114·B as [1,H,W] (or [3,H,W] when <paramref name="outputChannels"/>
    /// is 3), cast to the input dtype by truncation; one-channel input is returned as is.
    /// </summary>
    public static Tensor Grayscale(Tensor img, int outputChannels = 1)
    {
        var c = Channels(img, "Grayscale");
        using var s = Scope.Enter();
        Tensor l;
        if (c == 1) l = img.Clone();
        else
        {
            var rgb = img.Unbind(0);
            l = rgb[0].Mul(0.2989).Add(rgb[1].Mul(0.587)).Add(rgb[2].Mul(0.114)).To(img.DType).Unsqueeze(0);
        }
        if (outputChannels == 3) l = l.Expand(3, l.Size(1), l.Size(2)).Contiguous();
        else if (outputChannels != 1) throw new ArgumentException($"Grayscale: output channels must be 1 or 3, got {outputChannels}");
        return s.MoveOut(l);
    }

    /// <summary>Brightness: blend with black by <paramref name="factor"/> (1 = unchanged).</summary>
    public static Tensor Brightness(Tensor img, double factor)
    {
        NonNegative(factor, "Brightness");
        using var s = Scope.Enter();
        return s.MoveOut(Blend(img, Torch.Torch.ZerosLike(img), factor));
    }

    /// <summary>Contrast: blend with the mean of the (dtype-cast) grayscale image.</summary>
    public static Tensor Contrast(Tensor img, double factor)
    {
        NonNegative(factor, "Contrast");
        var c = Channels(img, "Contrast");
        using var s = Scope.Enter();
        var gray = c == 3 ? Grayscale(img) : img;
        var mean = gray.To(img.DType.IsFloatingPoint() ? img.DType : ScalarType.Float32).Mean();
        return s.MoveOut(Blend(img, mean, factor));
    }

    /// <summary>Saturation ("Color" in PIL): blend with the grayscale image.</summary>
    public static Tensor Saturation(Tensor img, double factor)
    {
        NonNegative(factor, "Saturation");
        if (Channels(img, "Saturation") == 1) return img.Alias();
        using var s = Scope.Enter();
        return s.MoveOut(Blend(img, Grayscale(img), factor));
    }

    /// <summary>
    /// Hue shift by <paramref name="factor"/> turns of the colour wheel (−0.5…0.5) in HSV space;
    /// uint8 images are converted to 0–1 and truncated back.
    /// </summary>
    public static Tensor Hue(Tensor img, double factor)
    {
        if (factor is < -0.5 or > 0.5) throw new ArgumentOutOfRangeException(nameof(factor), $"Hue: factor {factor} is outside [-0.5, 0.5]");
        if (Channels(img, "Hue") == 1) return img.Alias();
        using var s = Scope.Enter();
        var isUint8 = img.DType == ScalarType.UInt8;
        var x = isUint8 ? img.To(ScalarType.Float32).Div(255.0) : img;
        var hsv = Hsv.FromRgb(x).Unbind(0);
        var h = hsv[0].Add(factor).Remainder(1.0);
        var rgb = Hsv.ToRgb(Tensor.Stack([h, hsv[1], hsv[2]], 0));
        return s.MoveOut(isUint8 ? rgb.Mul(255.0).To(ScalarType.UInt8) : rgb.To(img.DType));
    }

    /// <summary>Inverts: bound − img.</summary>
    public static Tensor Invert(Tensor img)
    {
        using var s = Scope.Enter();
        return s.MoveOut((Bound(img) - img.To(ScalarType.Float32)).To(img.DType));
    }

    internal static int Channels(Tensor img, string op)
    {
        if (img.Dim != 3) throw new ArgumentException($"{op}: expected an image [C,H,W], got {img.Describe()}");
        var c = (int)img.Size(0);
        if (c != 1 && c != 3) throw new ArgumentException($"{op}: expected 1 or 3 channels, got {img.Describe()}");
        return c;
    }

    private static void NonNegative(double factor, string op)
    {
        if (!(factor >= 0)) throw new ArgumentOutOfRangeException(nameof(factor), $"{op}: factor must be non-negative, got {factor}");
    }
}
