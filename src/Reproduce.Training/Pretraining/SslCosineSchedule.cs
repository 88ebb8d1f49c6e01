namespace Reproduce.Training.Pretraining;

/// <summary>
/// DINOv2's per-iteration schedule (dinov2 <c>utils.CosineScheduler</c>), a table of <c>totalIters</c> values:
/// <code>
/// it &lt; F:              0                                         (freeze)
/// F ≤ it &lt; F + W:       linspace(start, base, W)[it − F]          (linear warm-up, both ends included)
/// F + W ≤ it &lt; T:       final + ½·(base − final)·(1 + cos(π·i / (T − W − F)))   with i = it − F − W
/// it ≥ T:               final
/// </code>
/// Evaluated in the same float64 operation order as numpy, so the values are the reference's bit for bit.
/// </summary>
public sealed class SslCosineSchedule
{
    /// <summary>The schedule; names as the reference's arguments.</summary>
    public SslCosineSchedule(double baseValue, double finalValue, long totalIters, long warmupIters = 0, double startWarmupValue = 0, long freezeIters = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalIters);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupIters);
        ArgumentOutOfRangeException.ThrowIfNegative(freezeIters);
        if (warmupIters + freezeIters > totalIters)
            throw new ArgumentException($"schedule: warm-up ({warmupIters}) and freeze ({freezeIters}) iterations exceed the {totalIters} total");
        (BaseValue, FinalValue, TotalIters, WarmupIters, StartWarmupValue, FreezeIters) =
            (baseValue, finalValue, totalIters, warmupIters, startWarmupValue, freezeIters);
    }

#pragma warning disable CS1591 // the constructor documents these
    public double BaseValue { get; }
    public double FinalValue { get; }
    public long TotalIters { get; }
    public long WarmupIters { get; }
    public double StartWarmupValue { get; }
    public long FreezeIters { get; }
#pragma warning restore CS1591

    /// <summary>The value at iteration <paramref name="it"/> (0-based).</summary>
    public double this[long it]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(it);
            if (it >= TotalIters) return FinalValue;
            if (it < FreezeIters) return 0;
            var w = it - FreezeIters;
            if (w < WarmupIters) return Linspace(StartWarmupValue, BaseValue, WarmupIters, w);
            var i = w - WarmupIters;
            var n = TotalIters - WarmupIters - FreezeIters;
            return FinalValue + 0.5 * (BaseValue - FinalValue) * (1 + Math.Cos(Math.PI * i / n));
        }
    }

    /// <summary>numpy's linspace(start, stop, num)[i]: i·step + start with step = (stop − start)/(num − 1), the last point exactly stop.</summary>
    private static double Linspace(double start, double stop, long num, long i)
    {
        if (num == 1) return start;
        if (i == num - 1) return stop;
        var step = (stop - start) / (num - 1);
        return i * step + start;
    }
}
