namespace Reproduce.Vision.Data.Mixing;

/// <summary>
/// CutMix boxes (Yun et al., arXiv 1905.04899) as timm/data/mixup.py draws them, as half-open
/// row/column ranges [Y0, Y1) × [X0, X1) of an H×W grid.
/// </summary>
public static class CutMixBox
{
    /// <summary>
    /// timm rand_bbox: sides ⌊H·√(1 − λ)⌋ and ⌊W·√(1 − λ)⌋, centre uniform in
    /// [margin·cut, side − margin·cut), edges centre ∓ ⌊cut/2⌋ clipped to the grid.
    /// </summary>
    public static (int Y0, int Y1, int X0, int X1) Centered(int h, int w, double lam, Random rng, double margin = 0)
    {
        if (h <= 0 || w <= 0) throw new ArgumentException($"CutMixBox: grid {h}×{w} must be positive");
        var ratio = Math.Sqrt(Math.Max(0, 1 - lam));
        int cutH = (int)(h * ratio), cutW = (int)(w * ratio);
        int marginY = (int)(margin * cutH), marginX = (int)(margin * cutW);
        var cy = rng.Next(marginY, Math.Max(marginY + 1, h - marginY));
        var cx = rng.Next(marginX, Math.Max(marginX + 1, w - marginX));
        return (Math.Clamp(cy - cutH / 2, 0, h), Math.Clamp(cy + cutH / 2, 0, h),
            Math.Clamp(cx - cutW / 2, 0, w), Math.Clamp(cx + cutW / 2, 0, w));
    }

    /// <summary>
    /// timm rand_bbox_minmax: side fractions uniform in [min, max) per axis, position uniform with the
    /// box fully inside.
    /// </summary>
    public static (int Y0, int Y1, int X0, int X1) MinMax(int h, int w, double min, double max, Random rng)
    {
        if (!(min >= 0 && min < max && max <= 1)) throw new ArgumentException($"CutMixBox: minmax ({min}, {max}) must satisfy 0 ≤ min < max ≤ 1");
        var cutH = rng.Next((int)(h * min), Math.Max((int)(h * min) + 1, (int)(h * max)));
        var cutW = rng.Next((int)(w * min), Math.Max((int)(w * min) + 1, (int)(w * max)));
        var y0 = rng.Next(0, Math.Max(1, h - cutH));
        var x0 = rng.Next(0, Math.Max(1, w - cutW));
        return (y0, y0 + cutH, x0, x0 + cutW);
    }

    /// <summary>The area-corrected λ = 1 − (Y1 − Y0)(X1 − X0) / (H·W): the fraction each image keeps of itself.</summary>
    public static double CorrectedLambda((int Y0, int Y1, int X0, int X1) box, int h, int w) =>
        1.0 - (double)(box.Y1 - box.Y0) * (box.X1 - box.X0) / ((double)h * w);
}
