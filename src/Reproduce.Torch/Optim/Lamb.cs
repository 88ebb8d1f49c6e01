using System.Text.Json.Nodes;
using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Optim;

/// <summary>Hyperparameters of <see cref="Lamb"/> (timm's names in PascalCase).</summary>
/// <param name="Beta1">Decay of the first-moment average m.</param>
/// <param name="Beta2">Decay of the second-moment average v.</param>
/// <param name="Eps">Added to √v̂ in the denominator (timm default 1e-6).</param>
/// <param name="BiasCorrection">Divide m and v by (1 − βᵗ).</param>
/// <param name="GradAveraging">Weight the gradient by (1 − β₁) in m; otherwise by 1.</param>
/// <param name="TrustClip">LAMBC: clip the trust ratio at 1.</param>
/// <param name="AlwaysAdapt">Apply the trust ratio also to groups with zero weight decay.</param>
public sealed record LambOptions(double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-6, bool BiasCorrection = true,
    bool GradAveraging = true, bool TrustClip = false, bool AlwaysAdapt = false) : OptimizerOptions;

/// <summary>
/// LAMB as timm's <c>timm.optim.Lamb</c> (the NVIDIA FusedLAMB variant; its single-tensor path, without the
/// newer <c>caution</c> / <c>decoupled_decay</c> / <c>corrected_weight_decay</c> options, i.e. with their defaults).
/// Per step, first a global clip factor over every gradient of every group:
/// <code>
/// c = max(‖(‖g₁‖, ‖g₂‖, …)‖ / max_grad_norm, 1)            (c = 1 when max_grad_norm is null)
/// </code>
/// then per group, with the group step t (incremented every step, even when no parameter has a gradient)
/// and β₃ = 1 − β₁ with grad averaging else 1, for each parameter p with gradient g (p.grad itself is not modified):
/// <code>
/// ĝ = g / c
/// m ← β₁·m + β₃·ĝ                         (computed as lerp(m, ĝ, β₃) when β₃ = 1 − β₁)
/// v ← β₂·v + (1 − β₂)·ĝ²
/// u = (m / (1 − β₁ᵗ)) / (√v / (1 − β₂ᵗ)^½ + ε)   (no bias correction: both divisors 1)
/// u ← u + λ·p                             (when λ ≠ 0)
/// u ← u · r,  r = ‖p‖/‖u‖, r = 1 when either norm is 0, r ← min(r, 1) with trust_clip
///                                         (when λ ≠ 0 or always_adapt)
/// p ← p − lr·u
/// </code>
/// State: <c>exp_avg</c> (m), <c>exp_avg_sq</c> (v) per parameter; the step count per group.
/// </summary>
public sealed class Lamb : Optimizer
{
    private readonly long[] _groupSteps;

    /// <summary>LAMB over parameter groups.</summary>
    /// <param name="groups">Groups; unset lr / weight decay / options take the values below.</param>
    /// <param name="lr">Default learning rate (timm: 1e-3).</param>
    /// <param name="weightDecay">Default weight decay λ (timm: 0.01), added to the update before the trust ratio.</param>
    /// <param name="options">Default betas, eps and switches.</param>
    /// <param name="maxGradNorm">Global gradient-norm clip (timm: 1.0), or null to disable; one value for all groups, as in timm.</param>
    public Lamb(IEnumerable<ParamGroup> groups, double lr = 1e-3, double weightDecay = 0.01, LambOptions? options = null, double? maxGradNorm = 1.0)
        : base(groups, lr, weightDecay, options ?? new LambOptions())
    {
        MaxGradNorm = maxGradNorm;
        _groupSteps = new long[Groups.Count];
        foreach (var g in Groups)
        {
            var o = OptionsOf<LambOptions>(g);
            if (g.Lr < 0) throw new ArgumentException($"Lamb: invalid learning rate {g.Lr}");
            if (o.Eps < 0) throw new ArgumentException($"Lamb: invalid eps {o.Eps}");
            if (g.WeightDecay < 0) throw new ArgumentException($"Lamb: invalid weight decay {g.WeightDecay}");
        }
    }

    /// <summary>LAMB over one group of <paramref name="parameters"/>.</summary>
    public Lamb(IEnumerable<Parameter> parameters, double lr = 1e-3, double weightDecay = 0.01, LambOptions? options = null, double? maxGradNorm = 1.0)
        : this([new ParamGroup(parameters)], lr, weightDecay, options, maxGradNorm) { }

    /// <summary>The global gradient-norm clip, or null when disabled.</summary>
    public double? MaxGradNorm { get; }

    /// <summary>Steps taken by group <paramref name="groupIndex"/>.</summary>
    public long GroupStep(int groupIndex) => _groupSteps[groupIndex];

    /// <summary>max(global grad norm / max_grad_norm, 1) as a 0-d tensor, or null (disabled or no gradients).</summary>
    private Tensor? ClipFactor()
    {
        if (MaxGradNorm is not { } maxNorm) return null;
        var norms = Parameters.Select(p => p.Grad).OfType<Tensor>().Select(g => g.Norm(2.0)).ToArray();
        if (norms.Length == 0) return null;
        return Tensor.Stack(norms).Norm(2.0).Div(maxNorm).Clamp_(min: 1.0);
    }

    private static Tensor TrustRatio(Tensor wNorm, Tensor uNorm, bool trustClip)
    {
        var where = Op.Get("aten::where.ScalarOther");
        var ratio = where.Invoke(wNorm.Gt(0.0), where.Invoke(uNorm.Gt(0.0), wNorm.Div(uNorm), 1.0), 1.0);
        return trustClip ? ratio.Clamp(max: 1.0) : ratio;
    }

    /// <inheritdoc/>
    protected override void StepCore()
    {
        var clip = ClipFactor();
        for (var gi = 0; gi < Groups.Count; gi++)
        {
            var g = Groups[gi];
            var o = OptionsOf<LambOptions>(g);
            var beta3 = o.GradAveraging ? 1 - o.Beta1 : 1.0;
            var step = ++_groupSteps[gi];
            var withGrad = g.Parameters.Select(p => (p, grad: p.Grad)).Where(x => x.grad is not null).ToArray();
            if (withGrad.Length == 0) continue;

            var (biasCorrection1, biasCorrection2) = o.BiasCorrection
                ? (1 - Math.Pow(o.Beta1, step), 1 - Math.Pow(o.Beta2, step))
                : (1.0, 1.0);
            var (lr, wd) = (g.Lr, g.WeightDecay);
            foreach (var (p, rawGrad) in withGrad)
            {
                var grad = clip is null ? rawGrad! : rawGrad!.Div(clip);
                var s = StateOf(p);
                var expAvg = s.GetOrCreate("exp_avg", () => Torch.ZerosLike(p));
                var expAvgSq = s.GetOrCreate("exp_avg_sq", () => Torch.ZerosLike(p));

                if (beta3 == 1 - o.Beta1) expAvg.Lerp_(grad, beta3);
                else expAvg.Mul_(o.Beta1).Add_(grad, beta3);
                expAvgSq.Mul_(o.Beta2).Addcmul_(grad, grad, 1 - o.Beta2);

                var denom = expAvgSq.Sqrt().Div_(Math.Pow(biasCorrection2, 0.5)).Add_(o.Eps);
                var update = expAvg.Div(biasCorrection1).Div_(denom);
                if (wd != 0) update.Add_(p, wd);
                if (wd != 0 || o.AlwaysAdapt)
                    update.Mul_(TrustRatio(p.Norm(2.0), update.Norm(2.0), o.TrustClip));
                p.Add_(update, -lr);
            }
        }
    }

    /// <inheritdoc/>
    protected override void WriteGroupState(int groupIndex, JsonObject group) => group["step"] = _groupSteps[groupIndex];

    /// <inheritdoc/>
    protected override void ReadGroupState(int groupIndex, JsonObject group) =>
        _groupSteps[groupIndex] = group["step"] is { } s ? (long)s : 0;
}
