using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Distributed;

/// <summary>
/// torch.nn.SyncBatchNorm for <see cref="BatchNorm2d"/> under data parallelism: in training, the batch statistics of
/// every channel come from the whole global batch. Forward: each rank sums x, x² and its element count n per channel
/// (in float64), one all-reduce gives S₁ = Σx, S₂ = Σx², N = Σn over ranks; μ = S₁/N, σ² = S₂/N − μ² (biased, as
/// normalisation uses), y = (x − μ)/√(σ² + ε)·γ + β; the running statistics follow with the unbiased σ²·N/(N − 1).
/// Backward: the all-reduce is differentiable (<see cref="ProcessGroup.SumOverRanks"/>: its gradient is the sum over
/// ranks of the output's gradient), so ∂L/∂x gets the global Σ∂L/∂y and Σ∂L/∂y·x̂ terms that torch's
/// batch_norm_backward_reduce + all_reduce provide. 2 ranks × batch B therefore give the outputs and gradients of
/// one process × batch 2B (with γ, β's gradients summed over ranks, which DDP's average rescales as it does the loss).
/// In evaluation, or in a group of one, the layer is plain BatchNorm.
/// </summary>
public static class SyncBatchNorm
{
    /// <summary>Makes every <see cref="BatchNorm2d"/> in <paramref name="model"/> synchronise over <paramref name="group"/>; returns how many.</summary>
    public static int Convert(Module model, ProcessGroup? group)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = model.NamedModules().Select(m => m.Module).OfType<BatchNorm2d>().ToList();
        foreach (var bn in layers) bn.SyncGroup = group;
        return layers.Count;
    }

    /// <summary>The training forward of <paramref name="bn"/> on this rank's <paramref name="input"/> [N,C,H,W] with global statistics.</summary>
    public static Tensor Forward(BatchNorm2d bn, Tensor input, ProcessGroup group, double momentum, double eps)
    {
        ArgumentNullException.ThrowIfNull(bn);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(group);
        using var s = Scope.Enter();
        var c = input.Size(1);
        var x64 = input.To(ScalarType.Float64);
        long[] dims = [0, 2, 3];
        var count = Torch.Full([1], input.Numel / c, ScalarType.Float64, input.Device);
        var stats = group.SumOverRanks(Tensor.Cat([x64.Sum(dims), x64.Square().Sum(dims), count]));
        var n = stats.Slice(0, 2 * c, 2 * c + 1);
        var mean = stats.Slice(0, 0, c).Div(n);
        var variance = stats.Slice(0, c, 2 * c).Div(n).Sub(mean.Square());
        var invstd = variance.Add(eps).Rsqrt();
        var total = n.ToDouble();
        using (Torch.NoGrad())
        {
            bn.RunningMean.Lerp_(mean.Detach().To(bn.RunningMean.DType), momentum);
            bn.RunningVar.Lerp_(variance.Detach().Mul(total / Math.Max(total - 1, 1)).To(bn.RunningVar.DType), momentum);
        }
        var scale = invstd.To(input.DType).Mul(bn.Weight).View(1, c, 1, 1);
        var shift = bn.Bias.Sub(mean.To(input.DType).Mul(invstd.To(input.DType)).Mul(bn.Weight)).View(1, c, 1, 1);
        return s.MoveOut(input.Mul(scale).Add(shift));
    }
}
