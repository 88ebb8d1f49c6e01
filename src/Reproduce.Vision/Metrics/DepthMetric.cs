using Reproduce.Torch;

namespace Reproduce.Vision.Metrics;

/// <summary>
/// Monocular depth metrics with BTS's conventions (cleinc/bts, pytorch/bts_eval.py: <c>eval</c> and
/// <c>compute_errors</c>), computed per image and then averaged over images. For each image, in float64:
/// <code>
/// p ← max(p, min_depth); p ← min(p, max_depth)   (so +∞ → max_depth, −∞ → min_depth); NaN → min_depth
/// valid = { min_depth &lt; g &lt; max_depth } ∩ crop window            (NaN GT is never valid)
/// </code>
/// and over the N valid pixels (g = GT, p = prediction, e = ln p − ln g):
/// <code>
/// abs_rel  = mean(|g − p| / g)
/// sq_rel   = mean((g − p)² / g)
/// rmse     = sqrt(mean((g − p)²))
/// rmse_log = sqrt(mean((ln g − ln p)²))
/// log10    = mean(|log10 p − log10 g|)
/// silog    = 100 · sqrt(mean(e²) − mean(e)²)          (the variance is floored at 0 against rounding)
/// d_k      = mean(max(g/p, p/g) &lt; 1.25^k),  k = 1, 2, 3   (fractions, not percent)
/// </code>
/// Each reported value is the mean of the per-image values over the images that have at least one valid
/// pixel (pixels are never pooled across images). An image without valid pixels is counted in
/// <see cref="SkippedImages"/> and left out, as the toolbox's nanmean does (BTS itself would return NaN).
/// No median scaling (supervised metric depth). BTS keeps per-image values in float32; here everything is
/// float64, so results agree with BTS to about 1e-6 relative.
/// </summary>
public sealed class DepthMetric
{
    private readonly double[] _sums = new double[9];

    /// <summary>An empty accumulator with the given range and crop (see <see cref="DepthEvalOptions.Nyu"/>, <see cref="DepthEvalOptions.Kitti"/>).</summary>
    public DepthMetric(DepthEvalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>Range and crop.</summary>
    public DepthEvalOptions Options { get; }

    /// <summary>Images that contributed (had at least one valid pixel).</summary>
    public long Images { get; private set; }

    /// <summary>Images without a single valid pixel (left out of the averages).</summary>
    public long SkippedImages { get; private set; }

    /// <summary>
    /// Adds one image [H, W] or a batch [B, H, W] / [B, 1, H, W] of predictions and GT depth in metres (same
    /// shape, any floating dtype, any device; invalid GT is 0 or anything outside the range). Each image of a
    /// batch is scored on its own.
    /// </summary>
    public void Update(Tensor prediction, Tensor groundTruth)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(groundTruth);
        if (!prediction.Shape.SequenceEqual(groundTruth.Shape))
            throw new ArgumentException($"DepthMetric: prediction {prediction.Describe()} and ground truth {groundTruth.Describe()} differ in shape (resize the prediction to the ground truth first)");
        var shape = prediction.Shape;
        if (shape.Length == 4 && shape[1] != 1 || shape.Length is < 2 or > 4)
            throw new ArgumentException($"DepthMetric: expected [H, W], [B, H, W] or [B, 1, H, W] depth maps, got {prediction.Describe()}");
        using var scope = Scope.Enter();
        using var noGrad = Torch.Torch.NoGrad();
        var p = prediction.To(Device.Cpu, ScalarType.Float64);
        var g = groundTruth.To(Device.Cpu, ScalarType.Float64);
        if (shape.Length == 2)
        {
            p = p.Unsqueeze(0);
            g = g.Unsqueeze(0);
        }
        else if (shape.Length == 4)
        {
            p = p.Squeeze(1);
            g = g.Squeeze(1);
        }
        for (long i = 0; i < p.Size(0); i++)
        {
            var values = ImageErrors(p.Select(0, i), g.Select(0, i), Options);
            if (values is null)
            {
                SkippedImages++;
                continue;
            }
            Add(values.Value);
        }
    }

    private void Add(DepthErrors e)
    {
        double[] v = [e.AbsRel, e.SqRel, e.Rmse, e.RmseLog, e.Log10, e.Silog, e.D1, e.D2, e.D3];
        for (var k = 0; k < v.Length; k++) _sums[k] += v[k];
        Images++;
    }

    /// <summary>Adds the totals of another accumulator with the same options (e.g. from another process).</summary>
    public void Merge(DepthMetric other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Options != Options) throw new ArgumentException($"DepthMetric.Merge: options differ ({Options} vs {other.Options})");
        for (var k = 0; k < _sums.Length; k++) _sums[k] += other._sums[k];
        Images += other.Images;
        SkippedImages += other.SkippedImages;
    }

    /// <summary>The totals as one array (the nine per-image metric sums, images, skipped images), e.g. to sum over processes.</summary>
    public double[] ToSums() => [.. _sums, Images, SkippedImages];

    /// <summary>Adds totals laid out as <see cref="ToSums"/> (e.g. the sum of every process's).</summary>
    public void AddSums(IReadOnlyList<double> sums)
    {
        ArgumentNullException.ThrowIfNull(sums);
        if (sums.Count != _sums.Length + 2) throw new ArgumentException($"DepthMetric.AddSums: {sums.Count} totals (expected {_sums.Length + 2})");
        for (var k = 0; k < _sums.Length; k++) _sums[k] += sums[k];
        Images += (long)sums[^2];
        SkippedImages += (long)sums[^1];
    }

    /// <summary>The per-image averages so far (NaN everywhere before any valid image).</summary>
    public DepthResult Result()
    {
        var m = _sums.Select(s => Images == 0 ? double.NaN : s / Images).ToArray();
        return new DepthResult(m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], Images, SkippedImages);
    }

    /// <summary>
    /// The nine errors of one image [H, W] (after clamping, masking and cropping as described on the class),
    /// or null when it has no valid pixel.
    /// </summary>
    public static DepthErrors? ImageErrors(Tensor prediction, Tensor groundTruth, DepthEvalOptions options)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentNullException.ThrowIfNull(options);
        if (prediction.Dim != 2 || !prediction.Shape.SequenceEqual(groundTruth.Shape))
            throw new ArgumentException($"DepthMetric: one image needs [H, W] prediction and ground truth of the same shape, got {prediction.Describe()} and {groundTruth.Describe()}");
        using var scope = Scope.Enter();
        using var noGrad = Torch.Torch.NoGrad();
        var (min, max) = (options.MinDepth, options.MaxDepth);
        var p = prediction.To(Device.Cpu, ScalarType.Float64).Clamp(min, max);
        p = p.MaskedFill(p.IsNan(), min);
        var g = groundTruth.To(Device.Cpu, ScalarType.Float64);
        var valid = g.Gt(min).LogicalAnd(g.Lt(max));
        if (options.CropWindow(g.Size(0), g.Size(1)) is { } w)
        {
            var window = Torch.Torch.Zeros(g.Shape, ScalarType.Bool);
            var rows = Math.Max(0, Math.Min(w.Bottom, (int)g.Size(0)) - w.Top);
            var cols = Math.Max(0, Math.Min(w.Right, (int)g.Size(1)) - w.Left);
            if (rows > 0 && cols > 0) window.Narrow(0, w.Top, rows).Narrow(1, w.Left, cols).Fill_(1);
            valid = valid.LogicalAnd(window);
        }
        var gv = g.MaskedSelect(valid);
        var pv = p.MaskedSelect(valid);
        if (gv.Numel == 0) return null;

        var ratio = gv.Div(pv).Maximum(pv.Div(gv));
        double Frac(double t) => ratio.Lt(t).To(ScalarType.Float64).Mean().ToDouble();
        var diff = gv.Sub(pv);
        var sq = diff.Square();
        var lg = gv.Log();
        var lp = pv.Log();
        var e = lp.Sub(lg);
        var meanE = e.Mean().ToDouble();
        var variance = Math.Max(0, e.Square().Mean().ToDouble() - meanE * meanE);
        return new DepthErrors(
            AbsRel: diff.Abs().Div(gv).Mean().ToDouble(),
            SqRel: sq.Div(gv).Mean().ToDouble(),
            Rmse: Math.Sqrt(sq.Mean().ToDouble()),
            RmseLog: Math.Sqrt(lg.Sub(lp).Square().Mean().ToDouble()),
            Log10: pv.Log10().Sub(gv.Log10()).Abs().Mean().ToDouble(),
            Silog: 100 * Math.Sqrt(variance),
            D1: Frac(1.25),
            D2: Frac(1.25 * 1.25),
            D3: Frac(1.25 * 1.25 * 1.25),
            ValidPixels: gv.Numel);
    }
}

/// <summary>The depth errors of one image (see <see cref="DepthMetric"/> for the formulas).</summary>
/// <param name="AbsRel">mean(|g − p| / g).</param>
/// <param name="SqRel">mean((g − p)² / g).</param>
/// <param name="Rmse">sqrt(mean((g − p)²)).</param>
/// <param name="RmseLog">sqrt(mean((ln g − ln p)²)).</param>
/// <param name="Log10">mean(|log10 p − log10 g|).</param>
/// <param name="Silog">100 · sqrt(mean(e²) − mean(e)²), e = ln p − ln g.</param>
/// <param name="D1">Fraction with max(g/p, p/g) &lt; 1.25.</param>
/// <param name="D2">Fraction below 1.25².</param>
/// <param name="D3">Fraction below 1.25³.</param>
/// <param name="ValidPixels">Pixels that counted.</param>
public readonly record struct DepthErrors(double AbsRel, double SqRel, double Rmse, double RmseLog, double Log10, double Silog,
    double D1, double D2, double D3, long ValidPixels);
