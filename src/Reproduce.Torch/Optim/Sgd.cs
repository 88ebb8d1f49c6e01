using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Optim;

/// <summary>Hyperparameters of <see cref="Sgd"/> (PyTorch's names).</summary>
/// <param name="Momentum">Momentum factor μ (0 disables the buffer).</param>
/// <param name="Dampening">Dampening τ of the gradient added to the buffer.</param>
/// <param name="Nesterov">Nesterov momentum (needs μ &gt; 0 and τ = 0).</param>
public sealed record SgdOptions(double Momentum = 0, double Dampening = 0, bool Nesterov = false) : OptimizerOptions;

/// <summary>
/// Stochastic gradient descent exactly as <c>torch.optim.SGD</c> (single-tensor path, not maximize), with
/// coupled (L2) weight decay. For each parameter p with gradient g:
/// <code>
/// d ← g + λ·p                               (when λ ≠ 0)
/// b ← d (first step) else μ·b + (1 − τ)·d   (when μ ≠ 0)
/// d ← d + μ·b (nesterov) else b             (when μ ≠ 0)
/// p ← p − lr·d
/// </code>
/// State per parameter: <c>momentum_buffer</c> (b), created on the parameter's first update.
/// </summary>
public sealed class Sgd : Optimizer
{
    /// <summary>SGD over parameter groups.</summary>
    /// <param name="groups">Groups; unset lr / weight decay / options take the values below.</param>
    /// <param name="lr">Default learning rate (required, as in PyTorch).</param>
    /// <param name="weightDecay">Default L2 weight decay λ, added to the gradient.</param>
    /// <param name="options">Default momentum, dampening and nesterov.</param>
    public Sgd(IEnumerable<ParamGroup> groups, double lr, double weightDecay = 0, SgdOptions? options = null)
        : base(groups, lr, weightDecay, options ?? new SgdOptions())
    {
        foreach (var g in Groups)
        {
            var o = OptionsOf<SgdOptions>(g);
            if (g.Lr < 0) throw new ArgumentException($"Sgd: invalid learning rate {g.Lr}");
            if (o.Momentum < 0) throw new ArgumentException($"Sgd: invalid momentum {o.Momentum}");
            if (g.WeightDecay < 0) throw new ArgumentException($"Sgd: invalid weight decay {g.WeightDecay}");
            if (o.Nesterov && (o.Momentum <= 0 || o.Dampening != 0))
                throw new ArgumentException("Sgd: nesterov momentum requires a momentum and zero dampening");
        }
    }

    /// <summary>SGD over one group of <paramref name="parameters"/>.</summary>
    public Sgd(IEnumerable<Parameter> parameters, double lr, double weightDecay = 0, SgdOptions? options = null)
        : this([new ParamGroup(parameters)], lr, weightDecay, options) { }

    /// <inheritdoc/>
    protected override void StepCore()
    {
        foreach (var g in Groups)
        {
            var o = OptionsOf<SgdOptions>(g);
            var (lr, wd) = (g.Lr, g.WeightDecay);
            foreach (var p in g.Parameters)
            {
                var d = p.Grad;
                if (d is null) continue;
                if (wd != 0) d = d.Add(p, wd);
                if (o.Momentum != 0)
                {
                    var s = StateOf(p);
                    var buf = s.Get("momentum_buffer");
                    if (buf is null) buf = s.Set("momentum_buffer", d.Clone());
                    else buf.Mul_(o.Momentum).Add_(d, 1 - o.Dampening);
                    d = o.Nesterov ? d.Add(buf, o.Momentum) : buf;
                }
                p.Add_(d, -lr);
            }
        }
    }
}
