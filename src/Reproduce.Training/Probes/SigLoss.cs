using Reproduce.Torch;

namespace Reproduce.Training.Probes;

/// <summary>
/// DINOv2's depth loss (<c>SigLoss</c>, dinov2/eval/depth/models/losses/sigloss.py, after AdaBins / BTS; docs/protocols/dense-probes.md §5.2),
/// the scale-invariant log loss on the valid pixels (gt &gt; 0, and gt ≤ max_depth when given):
/// <code>
/// g = ln(p + ε) − ln(t + ε),   ε = 1e-3
/// L = w · sqrt(Var(g) + 0.15 · mean(g)²)
/// </code>
/// with Var the unbiased variance (torch.var's default, as DINOv2 calls it). With the biased variance this is
/// sqrt(mean(g²) − λ·mean(g)²) with λ = 0.85, BTS's form. During warm-up (DINOv2: the first 100 iterations when
/// warm_up is on) only L = w · sqrt(0.15 · mean(g)²) is used. The weight w is 1 in the SigLoss class; DINOv2's depth decode
/// head defaults to loss_weight 10 and the third-party NYU linear config uses 1.0 (docs/protocols/dense-probes.md §5.2): we default to 1 and
/// name the choice in the probe config.
/// </summary>
public sealed class SigLoss
{
    /// <summary>ε inside the logarithms (DINOv2: 1e-3).</summary>
    public const double Epsilon = 1e-3;
    /// <summary>Weight of mean(g)² inside the root (DINOv2: 0.15, i.e. λ = 0.85).</summary>
    public const double MeanWeight = 0.15;

    /// <summary>Creates the loss.</summary>
    /// <param name="lossWeight">w.</param>
    /// <param name="maxDepth">Upper bound of the valid GT, or null for gt &gt; 0 only.</param>
    /// <param name="warmUpSteps">Number of first calls that use the warm-up form (0 = none; DINOv2: 100 when warm_up is on).</param>
    public SigLoss(double lossWeight = 1.0, double? maxDepth = null, int warmUpSteps = 0)
    {
        if (!(lossWeight > 0)) throw new ArgumentException($"SigLoss: loss weight must be positive (got {lossWeight})");
        if (maxDepth is { } m && !(m > 0)) throw new ArgumentException($"SigLoss: max depth must be positive (got {m})");
        if (warmUpSteps < 0) throw new ArgumentException($"SigLoss: warm-up steps must be ≥ 0 (got {warmUpSteps})");
        (LossWeight, MaxDepth, WarmUpSteps) = (lossWeight, maxDepth, warmUpSteps);
    }

    /// <summary>w.</summary>
    public double LossWeight { get; }
    /// <summary>Upper bound of valid GT (null: none).</summary>
    public double? MaxDepth { get; }
    /// <summary>Warm-up length in calls.</summary>
    public int WarmUpSteps { get; }
    /// <summary>Calls so far (the warm-up counter, DINOv2's <c>warm_iter</c>).</summary>
    public int Calls { get; private set; }

    /// <summary>
    /// Loss of <paramref name="prediction"/> against <paramref name="target"/> (same shape, metres; the prediction already
    /// resized to the GT). Throws when no pixel is valid (DINOv2 would produce NaN).
    /// </summary>
    public Tensor Forward(Tensor prediction, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        if (!prediction.Shape.SequenceEqual(target.Shape))
            throw new ArgumentException($"SigLoss: prediction {prediction.Describe()} and target {target.Describe()} differ in shape");
        using var s = Scope.Enter();
        var valid = target.Gt(0.0);
        if (MaxDepth is { } m) valid = valid.LogicalAnd(target.Le(m));
        var p = prediction.MaskedSelect(valid);
        var t = target.MaskedSelect(valid);
        var n = p.Size(0);
        if (n == 0) throw new ArgumentException($"SigLoss: no valid ground-truth pixel in target {target.Describe()}");
        var g = p.Add(Epsilon).Log().Sub(t.Add(Epsilon).Log());
        var meanTerm = g.Mean().Pow(2).Mul(MeanWeight);
        var warm = Calls < WarmUpSteps;
        Calls++;
        if (warm) return s.MoveOut(meanTerm.Sqrt().Mul(LossWeight));
        if (n < 2) throw new ArgumentException("SigLoss: the unbiased variance needs at least two valid pixels");
        var variance = g.Var([0L], unbiased: true);
        return s.MoveOut(variance.Add(meanTerm).Sqrt().Mul(LossWeight));
    }
}
