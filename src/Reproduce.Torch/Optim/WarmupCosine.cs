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
/// Simplification: timm's optional lr noise (<c>noise_range_t</c>) is not supported.
/// </summary>
public sealed class WarmupCosine : LrSchedule
{
    /// <summary>Creates the schedule (arguments as timm's CosineLRScheduler, in updates).</summary>
    /// <param name="tInitial">Length T of the (first) cosine cycle, in updates.</param>
    /// <param name="lrMin">Floor reached at the end of a cycle.</param>
    /// <param name="warmupT">Updates of linear warmup (0 for none).</param>
    /// <param name="warmupLrInit">Learning rate at update 0 of the warmup.</param>
    /// <param name="warmupPrefix">Start the cosine after the warmup (t counted from warmup_t) instead of at t = 0.</param>
    /// <param name="cycleMul">Growth factor of successive cycle lengths.</param>
    /// <param name="cycleDecay">Factor on the peak lr of each successive cycle.</param>
    /// <param name="cycleLimit">Number of cycles; afterwards lr stays at <paramref name="lrMin"/>.</param>
    /// <param name="kDecay">k-decay exponent k (1 = plain cosine).</param>
    public WarmupCosine(long tInitial, double lrMin = 0, long warmupT = 0, double warmupLrInit = 0, bool warmupPrefix = false,
        double cycleMul = 1, double cycleDecay = 1, int cycleLimit = 1, double kDecay = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tInitial);
        ArgumentOutOfRangeException.ThrowIfNegative(lrMin);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupT);
        (TInitial, LrMin, WarmupT, WarmupLrInit, WarmupPrefix) = (tInitial, lrMin, warmupT, warmupLrInit, warmupPrefix);
        (CycleMul, CycleDecay, CycleLimit, KDecay) = (cycleMul, cycleDecay, cycleLimit, kDecay);
    }

    /// <summary>Cycle length T (timm's t_initial).</summary>
    public long TInitial { get; }
    /// <summary>Floor lr (timm's lr_min).</summary>
    public double LrMin { get; }
    /// <summary>Warmup length (timm's warmup_t).</summary>
    public long WarmupT { get; }
    /// <summary>Warmup start lr (timm's warmup_lr_init).</summary>
    public double WarmupLrInit { get; }
    /// <summary>timm's warmup_prefix.</summary>
    public bool WarmupPrefix { get; }
    /// <summary>timm's cycle_mul.</summary>
    public double CycleMul { get; }
    /// <summary>timm's cycle_decay.</summary>
    public double CycleDecay { get; }
    /// <summary>timm's cycle_limit.</summary>
    public int CycleLimit { get; }
    /// <summary>timm's k_decay.</summary>
    public double KDecay { get; }

    /// <inheritdoc/>
    public override double LrAt(double baseLr, long step)
    {
        if (step < WarmupT)
            return WarmupLrInit + step * ((baseLr - WarmupLrInit) / WarmupT);
        var t = WarmupPrefix ? step - WarmupT : step;
        double i, tI, tCurr;
        if (CycleMul != 1)
        {
            i = Math.Floor(Math.Log(1 - (double)t / TInitial * (1 - CycleMul), CycleMul));
            tI = Math.Pow(CycleMul, i) * TInitial;
            tCurr = t - (1 - Math.Pow(CycleMul, i)) / (1 - CycleMul) * TInitial;
        }
        else
        {
            var cycle = t / TInitial;
            i = cycle;
            tI = TInitial;
            tCurr = t - TInitial * cycle;
        }
        if (i >= CycleLimit) return LrMin;
        var lrMax = baseLr * Math.Pow(CycleDecay, i);
        return LrMin + 0.5 * (lrMax - LrMin) * (1 + Math.Cos(Math.PI * Math.Pow(tCurr, KDecay) / Math.Pow(tI, KDecay)));
    }
}
