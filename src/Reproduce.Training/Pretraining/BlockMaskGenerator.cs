using Reproduce.Vision.Data;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// BEiT/iBOT block masking as DINOv2 draws it (dinov2 <c>data/masking.py</c>, <c>MaskingGenerator</c>) on a
/// <see cref="Height"/> × <see cref="Width"/> patch grid. One call asks for n masked patches and adds rectangles
/// until it has them or a round adds nothing; a round is up to 10 attempts of
/// <code>
/// area ~ U(min_patches, min(n − masked, max_patches)),   log aspect ~ U(log min_aspect, log max_aspect)
/// h = round(√(area·aspect)), w = round(√(area/aspect))    (round half to even, as Python)
/// if w &lt; W and h &lt; H: top ~ U{0..H−h}, left ~ U{0..W−w}; the rectangle is taken when it adds
///                        between 1 and (n − masked) … max new patches, and the round stops once it added any
/// </code>
/// The draws come from a <see cref="Random"/> through <see cref="DataRandom.Uniform"/> and
/// <see cref="DataRandom.RandInt"/>, in the reference's order, so the same draws give the same mask.
/// </summary>
public sealed record BlockMaskGenerator(int Height, int Width)
{
    /// <summary>min_num_patches (4).</summary>
    public double MinNumPatches { get; init; } = 4;

    /// <summary>max_num_patches: the largest rectangle area (DINOv2: half the grid, <see cref="ReferenceMaxPatches"/>).</summary>
    public double MaxNumPatches { get; init; } = double.PositiveInfinity;

    /// <summary>min_aspect (0.3); max_aspect is its inverse.</summary>
    public double MinAspect { get; init; } = 0.3;

    /// <summary>Patches in the grid.</summary>
    public int NumPatches => Height * Width;

    /// <summary>
    /// dinov2 train.py's <c>max_num_patches = 0.5 * img_size // patch_size * img_size // patch_size</c>, evaluated with
    /// Python's precedence (floor divisions on floats, left to right).
    /// </summary>
    public static double ReferenceMaxPatches(int imageSize, int patchSize) =>
        Math.Floor(Math.Floor(0.5 * imageSize / patchSize) * imageSize / patchSize);

    /// <summary>A row-major mask with (up to) <paramref name="numMasking"/> patches set.</summary>
    public bool[] Generate(int numMasking, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (Height <= 0 || Width <= 0) throw new ArgumentException($"block masking: grid {Height}x{Width} must be positive");
        if (!(MinAspect > 0)) throw new ArgumentException($"block masking: min aspect {MinAspect} must be positive");
        var mask = new bool[NumPatches];
        var count = 0;
        while (count < numMasking)
        {
            var delta = AddRectangle(mask, Math.Min(numMasking - count, MaxNumPatches), rng);
            if (delta == 0) break;
            count += delta;
        }
        return mask;
    }

    private int AddRectangle(bool[] mask, double maxMaskPatches, Random rng)
    {
        var (logLo, logHi) = (Math.Log(MinAspect), Math.Log(1 / MinAspect));
        var delta = 0;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var targetArea = rng.Uniform(MinNumPatches, maxMaskPatches);
            var aspect = Math.Exp(rng.Uniform(logLo, logHi));
            var h = (int)Math.Round(Math.Sqrt(targetArea * aspect), MidpointRounding.ToEven);
            var w = (int)Math.Round(Math.Sqrt(targetArea / aspect), MidpointRounding.ToEven);
            if (w < Width && h < Height)
            {
                var top = rng.RandInt(0, Height - h);
                var left = rng.RandInt(0, Width - w);
                var already = 0;
                for (var i = top; i < top + h; i++)
                    for (var j = left; j < left + w; j++)
                        if (mask[i * Width + j]) already++;
                var added = h * w - already;
                if (added > 0 && added <= maxMaskPatches)
                {
                    for (var i = top; i < top + h; i++)
                        for (var j = left; j < left + w; j++)
                            if (!mask[i * Width + j])
                            {
                                mask[i * Width + j] = true;
                                delta++;
                            }
                }
                if (delta > 0) break;
            }
        }
        return delta;
    }
}
