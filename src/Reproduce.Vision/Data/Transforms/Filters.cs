using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>Convolution-based image ops (torchvision tensor semantics, functional_tensor.py 0.14).</summary>
public static class Filters
{
    /// <summary>
    /// Sharpness: blend with PIL's "smooth" image (3×3 kernel [[1,1,1],[1,5,1],[1,1,1]]/13 applied to the
    /// interior, border pixels kept). factor 0 gives the smoothed image, 1 the original, 2 a sharper one.
    /// </summary>
    public static Tensor Sharpness(Tensor img, double factor)
    {
        if (!(factor >= 0)) throw new ArgumentOutOfRangeException(nameof(factor), $"Sharpness: factor must be non-negative, got {factor}");
        var c = ColorOps.Channels(img, "Sharpness");
        var (h, w) = Geometry.Size(img);
        if (h <= 2 || w <= 2) return img.Alias();
        using var s = Scope.Enter();
        var (x, dtype, squeeze) = Geometry.ToFloat4d(img);
        var k = new float[] { 1, 1, 1, 1, 5, 1, 1, 1, 1 };
        for (var i = 0; i < k.Length; i++) k[i] /= 13f;
        var kernel = Tensor.From<float>(k, [1, 1, 3, 3]).To(x.DType).Expand(c, 1, 3, 3);
        var smooth = Geometry.FromFloat4d(F.Conv2d(x, kernel, groups: c), dtype, squeeze);
        var degenerate = img.Clone();
        degenerate.Narrow(1, 1, h - 2).Narrow(2, 1, w - 2).Copy_(smooth);
        return s.MoveOut(ColorOps.Blend(img, degenerate, factor));
    }

    /// <summary>
    /// Gaussian blur with a separable kernel of odd size <paramref name="kernelSize"/> and standard
    /// deviation <paramref name="sigma"/> (pdf sampled at integer offsets, normalised), reflect padding.
    /// </summary>
    public static Tensor GaussianBlur(Tensor img, int kernelSize, double sigma)
    {
        if (kernelSize <= 0 || kernelSize % 2 == 0) throw new ArgumentException($"GaussianBlur: kernel size must be odd and positive, got {kernelSize}");
        if (!(sigma > 0)) throw new ArgumentException($"GaussianBlur: sigma must be positive, got {sigma}");
        var c = ColorOps.Channels(img, "GaussianBlur");
        using var s = Scope.Enter();
        var k1 = Kernel1d(kernelSize, sigma);
        var k2 = new float[kernelSize * kernelSize];
        for (var i = 0; i < kernelSize; i++)
            for (var j = 0; j < kernelSize; j++)
                k2[i * kernelSize + j] = k1[i] * k1[j];
        var (x, dtype, squeeze) = Geometry.ToFloat4d(img);
        var kernel = Tensor.From<float>(k2, [1, 1, kernelSize, kernelSize]).To(x.DType).Expand(c, 1, kernelSize, kernelSize);
        var half = kernelSize / 2;
        var padded = Op.Get("aten::reflection_pad2d").Invoke(x, new long[] { half, half, half, half });
        return s.MoveOut(Geometry.FromFloat4d(F.Conv2d(padded, kernel, groups: c), dtype, squeeze));
    }

    /// <summary>
    /// The kernel size torchvision-style callers use for a PIL-like radius: 2·⌈3σ⌉ + 1, covering ±3σ.
    /// </summary>
    public static int KernelSizeFor(double sigma) => 2 * (int)Math.Ceiling(3 * sigma) + 1;

    private static float[] Kernel1d(int size, double sigma)
    {
        // torchvision: x = linspace(−(k−1)/2, (k−1)/2, k); pdf = exp(−½(x/σ)²); normalised.
        var k = new float[size];
        var half = (size - 1) * 0.5;
        var sum = 0f;
        for (var i = 0; i < size; i++)
        {
            var x = (float)(-half + i);
            k[i] = MathF.Exp(-0.5f * MathF.Pow(x / (float)sigma, 2));
            sum += k[i];
        }
        for (var i = 0; i < size; i++) k[i] /= sum;
        return k;
    }
}
