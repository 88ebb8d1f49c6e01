using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// Per-pixel tone ops of AutoAugment/RandAugment on [C,H,W] images, with torchvision's tensor
/// semantics (functional_tensor.py, 0.14); posterize and equalize need uint8 as they do there.
/// </summary>
public static class PixelOps
{
    /// <summary>
    /// Stretches each channel linearly so its minimum becomes 0 and its maximum the bound; constant
    /// channels are unchanged.
    /// </summary>
    public static Tensor AutoContrast(Tensor img)
    {
        ColorOps.Channels(img, "AutoContrast");
        using var s = Scope.Enter();
        var bound = ColorOps.Bound(img);
        var dtype = img.DType.IsFloatingPoint() ? img.DType : ScalarType.Float32;
        var x = img.To(dtype);
        var min = x.Amin([-2, -1], keepDim: true);
        var max = x.Amax([-2, -1], keepDim: true);
        var range = max.Sub(min);
        var constant = range.Eq(0.0);
        var scale = Tensor.Where(constant, Torch.Torch.OnesLike(range), range.Reciprocal().Mul(bound));
        min = Tensor.Where(constant, Torch.Torch.ZerosLike(min), min);
        return s.MoveOut(x.Sub(min).Mul(scale).Clamp(0, bound).To(img.DType));
    }

    /// <summary>
    /// Histogram equalisation per channel (uint8 only), PIL's algorithm as torchvision restates it:
    /// step = ⌊(Σ hist − last non-zero bin) / 255⌋; lut[v] = ⌊(cdf[v−1] + ⌊step/2⌋) / step⌋ clamped to
    /// 0–255; a channel with step 0 is unchanged.
    /// </summary>
    public static Tensor Equalize(Tensor img)
    {
        var c = ColorOps.Channels(img, "Equalize");
        if (img.DType != ScalarType.UInt8) throw new ArgumentException($"Equalize: needs a uint8 image, got {img.Describe()}");
        var shape = img.Shape;
        var data = img.Contiguous().ToArray<byte>();
        var plane = (int)(shape[1] * shape[2]);
        Span<long> hist = stackalloc long[256];
        Span<byte> lut = stackalloc byte[256];
        for (var ch = 0; ch < c; ch++)
        {
            var px = data.AsSpan(ch * plane, plane);
            hist.Clear();
            foreach (var v in px) hist[v]++;
            long total = 0, last = 0;
            for (var v = 0; v < 256; v++)
                if (hist[v] != 0) { total += hist[v]; last = hist[v]; }
            var step = (total - last) / 255;
            if (step == 0) continue;
            long cdf = 0;
            for (var v = 0; v < 256; v++)
            {
                // lut[v] uses the cumulative count of the bins below v.
                lut[v] = (byte)Math.Clamp((cdf + step / 2) / step, 0, 255);
                cdf += hist[v];
            }
            for (var k = 0; k < px.Length; k++) px[k] = lut[px[k]];
        }
        return Tensor.From<byte>(data, shape);
    }

    /// <summary>Keeps the <paramref name="bits"/> most significant bits of each uint8 value (0 ≤ bits ≤ 8).</summary>
    public static Tensor Posterize(Tensor img, int bits)
    {
        ColorOps.Channels(img, "Posterize");
        if (img.DType != ScalarType.UInt8) throw new ArgumentException($"Posterize: needs a uint8 image, got {img.Describe()}");
        if (bits is < 0 or > 8) throw new ArgumentOutOfRangeException(nameof(bits), $"Posterize: bits must be in 0..8, got {bits}");
        if (bits == 8) return img.Clone();
        var mask = (long)(~((1 << (8 - bits)) - 1) & 0xFF);
        return Op.Get("aten::bitwise_and.Scalar").Invoke(img, mask);
    }

    /// <summary>Inverts the values at or above <paramref name="threshold"/> (a threshold above the bound changes nothing).</summary>
    public static Tensor Solarize(Tensor img, double threshold)
    {
        ColorOps.Channels(img, "Solarize");
        using var s = Scope.Enter();
        return s.MoveOut(Tensor.Where(img.Ge(threshold), ColorOps.Invert(img), img));
    }

    /// <summary>
    /// timm's solarize_add: adds <paramref name="add"/> (capped at the bound) to the values below
    /// <paramref name="threshold"/> (128 for uint8 in timm); the rest are unchanged.
    /// </summary>
    public static Tensor SolarizeAdd(Tensor img, double add, double threshold = 128)
    {
        ColorOps.Channels(img, "SolarizeAdd");
        using var s = Scope.Enter();
        var bound = ColorOps.Bound(img);
        var added = img.To(ScalarType.Float32).Add(add).Clamp(null, bound).To(img.DType);
        return s.MoveOut(Tensor.Where(img.Lt(threshold), added, img));
    }
}
