using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Optim;

/// <summary>Gradient clipping (like <c>torch.nn.utils.clip_grad_norm_</c>).</summary>
public static class GradClip
{
    /// <summary>
    /// Scales the gradients of <paramref name="parameters"/> in place so that their joint norm is at most
    /// <paramref name="maxNorm"/>, exactly as <c>torch.nn.utils.clip_grad_norm_</c>:
    /// <code>
    /// total = ‖(‖g₁‖ₚ, ‖g₂‖ₚ, …)‖ₚ           (p = ∞: max over all |gᵢ|)
    /// coef  = min(maxNorm / (total + 1e-6), 1)
    /// gᵢ ← gᵢ · coef
    /// </code>
    /// Parameters without a gradient are ignored. The multiplication happens even when coef is 1 (so there is
    /// no device synchronisation), as in PyTorch.
    /// </summary>
    /// <param name="parameters">Parameters whose gradients are clipped.</param>
    /// <param name="maxNorm">Largest allowed total norm.</param>
    /// <param name="normType">The p of the p-norm; <see cref="double.PositiveInfinity"/> for the max norm.</param>
    /// <returns>The total norm before clipping, a 0-d tensor in the current scope (float32 zero when no parameter has a gradient, as PyTorch).</returns>
    public static Tensor ClipGradNorm(IEnumerable<Parameter> parameters, double maxNorm, double normType = 2)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        using var noGrad = Torch.NoGrad();
        using var scope = Scope.Enter();
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToArray();
        if (grads.Length == 0) return scope.MoveOut(Torch.Scalar(0.0));
        var device = grads[0].Device;
        var norms = grads.Select(g => (double.IsPositiveInfinity(normType) ? g.Abs().Max() : g.Norm(normType)).To(device)).ToArray();
        var total = double.IsPositiveInfinity(normType)
            ? (norms.Length == 1 ? norms[0] : Tensor.Stack(norms).Max())
            : Tensor.Stack(norms).Norm(normType);
        var coef = (maxNorm / (total + 1e-6)).Clamp(max: 1.0);
        foreach (var g in grads) g.Mul_(coef.To(g.Device));
        return scope.MoveOut(total);
    }
}
