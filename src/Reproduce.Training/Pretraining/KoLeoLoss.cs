using Reproduce.Torch;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// The KoLeo regulariser (Sablayrolles et al. 2019, "Spreading vectors for similarity search"; dinov2
/// <c>KoLeoLoss</c>), the Kozachenko–Leonenko differential-entropy estimate that pushes a batch's features apart:
/// <code>
/// x̂_i = x_i / max(‖x_i‖, ε)
/// j(i) = argmax_{j ≠ i} ⟨x̂_i, x̂_j⟩                    (nearest neighbour on the sphere)
/// L = −(1/n)·Σ_i log(‖x̂_i − x̂_j(i) + ε_d‖ + ε)         (ε = ε_d = 1e-8, as nn.PairwiseDistance)
/// </code>
/// DINOv2 applies it to the student's [CLS] features of each global crop separately, weighted 0.1. The
/// neighbour choice is not differentiated (an argmax).
/// </summary>
public static class KoLeoLoss
{
    /// <summary>L for features [n, D] (n ≥ 2).</summary>
    public static Tensor Compute(Tensor features, double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Dim != 2 || features.Size(0) < 2)
            throw new ArgumentException($"KoLeo loss: features {features.Describe()} must be [n, D] with n >= 2");
        using var scope = Scope.Enter();
        var x = features.Div(features.Norm(2, [-1], keepDim: true).Clamp(min: eps));
        var neighbour = Neighbours(x);
        var distance = x.Sub(x.IndexSelect(0, neighbour)).Add(1e-8).Norm(2, [-1]);
        return scope.MoveOut(distance.Add(eps).Log().Mean().Neg());
    }

    /// <summary>j(i) for unit rows [n, D]: the row with the largest inner product, itself excluded.</summary>
    public static Tensor Neighbours(Tensor unitRows)
    {
        ArgumentNullException.ThrowIfNull(unitRows);
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = Scope.Enter();
        var n = unitRows.Size(0);
        var dots = unitRows.Detach().Mm(unitRows.Detach().T());
        var diagonal = Torch.Torch.Eye(n, ScalarType.Bool, unitRows.Device);
        return scope.MoveOut(dots.MaskedFill(diagonal, -1).Argmax(1));
    }
}
