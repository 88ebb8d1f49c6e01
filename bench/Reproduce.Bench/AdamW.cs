using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Bench;

/// <summary>
/// TEMPORARY, bench-only AdamW — replace with Reproduce.Torch.Optim.AdamW once that branch is merged.
/// Exactly torch.optim.AdamW's single-tensor update (PyTorch 1.13, amsgrad off, maximize off), op for op
/// and in the same order, all in place under no-grad:
/// <code>
/// step += 1
/// p.mul_(1 − lr·wd)
/// m.mul_(β1).add_(g, alpha = 1 − β1)
/// v.mul_(β2).addcmul_(g, g, value = 1 − β2)
/// denom = (v.sqrt() / √(1 − β2^step)).add_(eps)        (here: sqrt, then the division in place)
/// p.addcdiv_(m, denom, value = −lr / (1 − β1^step))
/// </code>
/// The bias corrections are computed in double precision from the integer step, as Python does with
/// <c>step_t.item()</c>. Parameters whose gradient is None are skipped (and their step not counted).
/// </summary>
internal sealed class AdamW : IDisposable
{
    private readonly Parameter[] _params;
    private readonly Tensor?[] _expAvg, _expAvgSq;
    private readonly long[] _steps;
    private readonly double _lr, _beta1, _beta2, _eps, _weightDecay;

    public AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 1e-2)
    {
        _params = parameters.ToArray();
        _expAvg = new Tensor?[_params.Length];
        _expAvgSq = new Tensor?[_params.Length];
        _steps = new long[_params.Length];
        (_lr, _beta1, _beta2, _eps, _weightDecay) = (lr, beta1, beta2, eps, weightDecay);
    }

    public void Step()
    {
        using var noGrad = Torch.Torch.NoGrad();
        for (var i = 0; i < _params.Length; i++)
        {
            using var scope = Scope.Enter();
            var p = _params[i];
            var g = p.Grad;
            if (g is null) continue;
            // State tensors live as long as the optimizer (not in the step's scope).
            var m = _expAvg[i] ??= Torch.Torch.ZerosLike(p).DetachFromScope();
            var v = _expAvgSq[i] ??= Torch.Torch.ZerosLike(p).DetachFromScope();
            var step = ++_steps[i];

            p.Mul_(1 - _lr * _weightDecay);
            m.Mul_(_beta1).Add_(g, 1 - _beta1);
            v.Mul_(_beta2).Addcmul_(g, g, 1 - _beta2);

            var biasCorrection1 = 1 - Math.Pow(_beta1, step);
            var biasCorrection2 = 1 - Math.Pow(_beta2, step);
            var stepSize = _lr / biasCorrection1;
            var denom = v.Sqrt().Div_(Math.Sqrt(biasCorrection2)).Add_(_eps);
            p.Addcdiv_(m, denom, -stepSize);
        }
    }

    /// <summary>Drops every gradient (set to None), the cheaper choice; PyTorch 1.13's default zeroes them instead.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _params) p.ZeroGrad(setToNone: true);
    }

    public void Dispose()
    {
        foreach (var t in _expAvg) t?.Dispose();
        foreach (var t in _expAvgSq) t?.Dispose();
    }
}
