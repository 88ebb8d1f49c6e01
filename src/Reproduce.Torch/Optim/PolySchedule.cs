namespace Reproduce.Torch.Optim;

/// <summary>
/// Polynomial decay as mmengine's iteration-based <c>PolyLR</c> (mmseg 1.x), optionally preceded by mmengine's
/// <c>LinearLR</c> warmup — the usual mmseg ViT recipe
/// <c>[LinearLR(start_factor, begin=0, end=W), PolyLR(power, eta_min, begin=W, end=N)]</c>. With base lr b:
/// <code>
/// t &lt; W:  lr = b · (s + (1 − s) · t / (W − 1))                    (s = warmup start factor; W = 1: lr = b·s)
/// t ≥ W:  lr = (b − lr_min) · (1 − min(t − W, T) / T)^power + lr_min,  T = N − W − 1
/// </code>
/// These are the closed forms of mmengine's chained updates (its recursive factors telescope to them), so
/// the lr reaches lr_min at the last step t = N − 1 and stays there.
/// </summary>
public sealed class PolySchedule : LrSchedule
{
    /// <summary>Creates the schedule (steps = optimizer updates, as <see cref="CosineSchedule"/>).</summary>
    /// <param name="totalSteps">N: the end (exclusive) of the decay, usually the number of iterations.</param>
    /// <param name="power">mmengine's default is 1.0.</param>
    /// <param name="minLr">mmengine's eta_min, reached at step N − 1.</param>
    /// <param name="warmupSteps">W (0 for none).</param>
    /// <param name="warmupStartFactor">s: a fraction of the base lr, as mmengine's LinearLR (mmseg's ViT configs use 1e-6).</param>
    public PolySchedule(long totalSteps, double power = 1.0, double minLr = 0, long warmupSteps = 0, double warmupStartFactor = 1e-6)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        if (totalSteps - warmupSteps < 2)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), $"PolySchedule: the decay needs at least 2 steps after the warmup (total {totalSteps}, warmup {warmupSteps})");
        if (warmupStartFactor is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(warmupStartFactor), "PolySchedule: the warmup start factor must lie in [0, 1]");
        (TotalSteps, Power, MinLr, WarmupSteps, WarmupStartFactor) = (totalSteps, power, minLr, warmupSteps, warmupStartFactor);
    }

#pragma warning disable CS1591 // the constructor's parameters document these
    public long TotalSteps { get; }
    public double Power { get; }
    public double MinLr { get; }
    public long WarmupSteps { get; }
    public double WarmupStartFactor { get; }
#pragma warning restore CS1591

    /// <inheritdoc/>
    public override double LrAt(double baseLr, long step)
    {
        if (step < WarmupSteps)
        {
            var total = WarmupSteps - 1;
            var factor = total == 0 ? WarmupStartFactor : WarmupStartFactor + (1 - WarmupStartFactor) * step / total;
            return baseLr * factor;
        }
        var T = TotalSteps - WarmupSteps - 1;
        var t = Math.Min(step - WarmupSteps, T);
        return (baseLr - MinLr) * Math.Pow(1 - (double)t / T, Power) + MinLr;
    }
}
