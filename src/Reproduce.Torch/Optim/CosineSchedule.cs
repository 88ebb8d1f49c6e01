namespace Reproduce.Torch.Optim;

/// <summary>
/// timm's <c>CosineLRScheduler</c> evaluated per optimizer update (<c>t_in_epochs=False</c>), with base lr b:
/// <code>
/// t &lt; warmup_t:  lr = warmup_lr_init + t · (b − warmup_lr_init) / warmup_t
/// otherwise:     t ← t − warmup_t                              (warmup_prefix only)
///                i = ⌊t / T⌋, T_i = T, t_cur = t − i·T             (cycle_mul = 1)
///                i = ⌊log_m(1 − t/T·(1 − m))⌋, T_i = mⁱ·T, t_cur = t − (1 − mⁱ)/(1 − m)·T   (cycle_mul m ≠ 1)
///                lr = lr_min + ½·(b·dⁱ − lr_min)·(1 + cos(π·t_curᵏ / T_iᵏ))   while i &lt; cycle_limit (d = cycle_decay)
///                lr = lr_min                                        afterwards
/// </code>
/// With the defaults (cycle_limit 1, no restarts) this is linear warmup then one half-cosine from b to lr_min
/// over T = t_initial updates (warmup included unless warmup_prefix), staying at lr_min after.
/// Names as <see cref="PolySchedule"/> (steps = optimizer updates); timm's names in the formula. Simplification: timm's optional lr noise (<c>noise_range_t</c>) is not supported.
/// </summary>
public sealed class CosineSchedule : LrSchedule
{
    /// <summary>Creates the schedule; each argument is the timm argument named in the formula.</summary>
    /// <param name="cycleSteps">t_initial: the length T of the (first) cosine cycle.</param>
    /// <param name="minLr">lr_min.</param>
    /// <param name="warmupSteps">warmup_t (0 for none).</param>
    /// <param name="warmupStartLr">warmup_lr_init: an absolute lr, where <see cref="PolySchedule"/> takes a fraction of the base lr (as mmengine).</param>
    /// <param name="warmupPrefix">warmup_prefix: count the cosine from the end of the warmup instead of from step 0.</param>
    /// <param name="cycleMul">cycle_mul.</param>
    /// <param name="cycleDecay">cycle_decay.</param>
    /// <param name="cycleLimit">cycle_limit.</param>
    /// <param name="kDecay">k_decay (1 = plain cosine).</param>
    public CosineSchedule(long cycleSteps, double minLr = 0, long warmupSteps = 0, double warmupStartLr = 0, bool warmupPrefix = false,
        double cycleMul = 1, double cycleDecay = 1, int cycleLimit = 1, double kDecay = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cycleSteps);
        ArgumentOutOfRangeException.ThrowIfNegative(minLr);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        (CycleSteps, MinLr, WarmupSteps, WarmupStartLr, WarmupPrefix) = (cycleSteps, minLr, warmupSteps, warmupStartLr, warmupPrefix);
        (CycleMul, CycleDecay, CycleLimit, KDecay) = (cycleMul, cycleDecay, cycleLimit, kDecay);
    }

#pragma warning disable CS1591 // the constructor's parameters document these
    public long CycleSteps { get; }
    public double MinLr { get; }
    public long WarmupSteps { get; }
    public double WarmupStartLr { get; }
    public bool WarmupPrefix { get; }
    public double CycleMul { get; }
    public double CycleDecay { get; }
    public int CycleLimit { get; }
    public double KDecay { get; }
#pragma warning restore CS1591

    /// <inheritdoc/>
    public override double LrAt(double baseLr, long step)
    {
        if (step < WarmupSteps)
            return WarmupStartLr + step * ((baseLr - WarmupStartLr) / WarmupSteps);
        var t = WarmupPrefix ? step - WarmupSteps : step;
        double i, tI, tCurr;
        if (CycleMul != 1)
        {
            i = Math.Floor(Math.Log(1 - (double)t / CycleSteps * (1 - CycleMul), CycleMul));
            tI = Math.Pow(CycleMul, i) * CycleSteps;
            tCurr = t - (1 - Math.Pow(CycleMul, i)) / (1 - CycleMul) * CycleSteps;
        }
        else
        {
            var cycle = t / CycleSteps;
            i = cycle;
            tI = CycleSteps;
            tCurr = t - CycleSteps * cycle;
        }
        if (i >= CycleLimit) return MinLr;
        var lrMax = baseLr * Math.Pow(CycleDecay, i);
        return MinLr + 0.5 * (lrMax - MinLr) * (1 + Math.Cos(Math.PI * Math.Pow(tCurr, KDecay) / Math.Pow(tI, KDecay)));
    }
}
