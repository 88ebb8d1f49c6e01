using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Optim;

/// <summary>Hyperparameters of <see cref="AdamW"/> (PyTorch's names: betas = (Beta1, Beta2), eps, amsgrad).</summary>
/// <param name="Beta1">Decay of the first-moment average m.</param>
/// <param name="Beta2">Decay of the second-moment average v.</param>
/// <param name="Eps">Added to √v̂ in the denominator (after the bias correction).</param>
/// <param name="Amsgrad">Use the running maximum of v (AMSGrad).</param>
public sealed record AdamWOptions(double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8, bool Amsgrad = false) : OptimizerOptions;

/// <summary>
/// Adam with decoupled weight decay, exactly as <c>torch.optim.AdamW</c> (single-tensor path, not maximize).
/// For each parameter p with gradient g, at its own step t (counted per parameter, from 1):
/// <code>
/// p ← p·(1 − lr·λ)
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// v_max ← max(v_max, v)                                   (amsgrad only; v_max replaces v below)
/// p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// </code>
/// State per parameter: <c>exp_avg</c> (m), <c>exp_avg_sq</c> (v), <c>max_exp_avg_sq</c> (amsgrad) and the step.
/// </summary>
public sealed class AdamW : Optimizer
{
    /// <summary>AdamW over parameter groups.</summary>
    /// <param name="groups">Groups; unset lr / weight decay / options take the values below.</param>
    /// <param name="lr">Default learning rate (PyTorch: 1e-3).</param>
    /// <param name="weightDecay">Default decoupled weight decay λ (PyTorch: 1e-2).</param>
    /// <param name="options">Default betas, eps and amsgrad.</param>
    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double weightDecay = 1e-2, AdamWOptions? options = null)
        : base(groups, lr, weightDecay, options ?? new AdamWOptions())
    {
        foreach (var g in Groups) Validate(g);
    }

    /// <summary>AdamW over one group of <paramref name="parameters"/>.</summary>
    public AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double weightDecay = 1e-2, AdamWOptions? options = null)
        : this([new ParamGroup(parameters)], lr, weightDecay, options) { }

    private static void Validate(ParamGroup g)
    {
        var o = OptionsOf<AdamWOptions>(g);
        if (g.Lr < 0) throw new ArgumentException($"AdamW: invalid learning rate {g.Lr}");
        if (o.Eps < 0) throw new ArgumentException($"AdamW: invalid eps {o.Eps}");
        if (o.Beta1 is < 0 or >= 1) throw new ArgumentException($"AdamW: invalid beta1 {o.Beta1}");
        if (o.Beta2 is < 0 or >= 1) throw new ArgumentException($"AdamW: invalid beta2 {o.Beta2}");
        if (g.WeightDecay < 0) throw new ArgumentException($"AdamW: invalid weight decay {g.WeightDecay}");
    }

    /// <inheritdoc/>
    protected override void StepCore()
    {
        foreach (var g in Groups)
        {
            var o = OptionsOf<AdamWOptions>(g);
            var (lr, wd) = (g.Lr, g.WeightDecay);
            foreach (var p in g.Parameters)
            {
                var grad = p.Grad;
                if (grad is null) continue;
                var s = StateOf(p);
                var expAvg = s.GetOrCreate("exp_avg", () => Torch.ZerosLike(p));
                var expAvgSq = s.GetOrCreate("exp_avg_sq", () => Torch.ZerosLike(p));
                var step = (s.Step ?? 0) + 1;
                s.Step = step;

                p.Mul_(1 - lr * wd);
                expAvg.Mul_(o.Beta1).Add_(grad, 1 - o.Beta1);
                expAvgSq.Mul_(o.Beta2).Addcmul_(grad, grad, 1 - o.Beta2);

                var biasCorrection1 = 1 - Math.Pow(o.Beta1, step);
                var biasCorrection2 = 1 - Math.Pow(o.Beta2, step);
                var stepSize = lr / biasCorrection1;
                var biasCorrection2Sqrt = Math.Sqrt(biasCorrection2);

                Tensor second = expAvgSq;
                if (o.Amsgrad)
                {
                    var maxSq = s.GetOrCreate("max_exp_avg_sq", () => Torch.ZerosLike(p));
                    Op.Get("aten::maximum.out").Call(maxSq, expAvgSq, maxSq).DisposeAll();
                    second = maxSq;
                }
                var denom = second.Sqrt().Div_(biasCorrection2Sqrt).Add_(o.Eps);
                p.Addcdiv_(expAvg, denom, -stepSize);
            }
        }
    }
}
