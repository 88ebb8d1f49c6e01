using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>How <see cref="RandomErasing"/> fills an erased box.</summary>
public enum ErasingMode
{
    /// <summary>Zeros (timm 'const').</summary>
    Const,
    /// <summary>One N(0,1) value per channel (timm 'rand').</summary>
    Rand,
    /// <summary>An N(0,1) value per pixel and channel (timm 'pixel', used by LV-ViT and DeiT).</summary>
    Pixel,
}

/// <summary>
/// timm's RandomErasing (timm/data/random_erasing.py; Zhong et al., arXiv 1708.04896) on a normalised
/// float [C,H,W] image: with probability <see cref="Probability"/>, 1…<see cref="MaxCount"/> boxes; each
/// tries up to 10 times an area a ~ U(min, max)·H·W/count and a log-uniform aspect r, with
/// h = round(√(a·r)), w = round(√(a/r)), accepted when h &lt; H and w &lt; W. Image only: masks,
/// depth and token labels are untouched, as in TokenLabeling.
/// </summary>
public sealed record RandomErasing
{
    /// <summary>Probability of erasing an image (LV-ViT: 0.25).</summary>
    public double Probability { get; init; } = 0.5;
    /// <summary>Minimum erased area fraction.</summary>
    public double MinArea { get; init; } = 0.02;
    /// <summary>Maximum erased area fraction.</summary>
    public double MaxArea { get; init; } = 1.0 / 3.0;
    /// <summary>Minimum aspect ratio; the maximum is its reciprocal unless set.</summary>
    public double MinAspect { get; init; } = 0.3;
    /// <summary>Maximum aspect ratio (default 1/<see cref="MinAspect"/>).</summary>
    public double? MaxAspect { get; init; }
    /// <summary>Fill mode (LV-ViT: pixel).</summary>
    public ErasingMode Mode { get; init; } = ErasingMode.Const;
    /// <summary>Maximum number of boxes; the count is uniform in 1…MaxCount (LV-ViT: 1).</summary>
    public int MaxCount { get; init; } = 1;

    /// <summary>Erases boxes in a copy of <paramref name="image"/> (float [C,H,W]).</summary>
    public Tensor Apply(Tensor image, Random rng)
    {
        if (image.Dim != 3 || !image.DType.IsFloatingPoint())
            throw new ArgumentException($"RandomErasing: expected a normalised float image [C,H,W], got {image.Describe()}");
        if (rng.NextDouble() > Probability) return image.Alias();
        int c = (int)image.Size(0), h = (int)image.Size(1), w = (int)image.Size(2);
        var area = (double)h * w;
        var count = MaxCount > 1 ? rng.RandInt(1, MaxCount) : MaxCount;
        double logLo = Math.Log(MinAspect), logHi = Math.Log(MaxAspect ?? 1.0 / MinAspect);
        var result = image.Clone();
        for (var n = 0; n < count; n++)
        {
            for (var attempt = 0; attempt < 10; attempt++)
            {
                var target = rng.Uniform(MinArea, MaxArea) * area / count;
                var aspect = Math.Exp(rng.Uniform(logLo, logHi));
                var eh = (int)Math.Round(Math.Sqrt(target * aspect), MidpointRounding.ToEven);
                var ew = (int)Math.Round(Math.Sqrt(target / aspect), MidpointRounding.ToEven);
                if (ew < w && eh < h)
                {
                    if (eh == 0 || ew == 0) break; // an empty box erases nothing
                    var top = rng.RandInt(0, h - eh);
                    var left = rng.RandInt(0, w - ew);
                    using (Scope.Enter())
                    {
                        var fill = Tensor.From<float>(Pixels(c, eh, ew, rng), [c, Mode == ErasingMode.Pixel ? eh : 1, Mode == ErasingMode.Pixel ? ew : 1])
                            .To(result.DType);
                        result.Narrow(1, top, eh).Narrow(2, left, ew).Copy_(fill);
                    }
                    break;
                }
            }
        }
        return result;
    }

    private float[] Pixels(int c, int h, int w, Random rng)
    {
        var n = Mode == ErasingMode.Pixel ? c * h * w : c;
        var v = new float[n];
        if (Mode != ErasingMode.Const)
            for (var i = 0; i < n; i++) v[i] = (float)rng.Gaussian();
        return v;
    }
}
