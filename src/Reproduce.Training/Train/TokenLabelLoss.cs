using Reproduce.Torch;

namespace Reproduce.Training.Train;

/// <summary>
/// The token labeling objective of "All Tokens Matter" (Jiang et al., NeurIPS 2021, Eq. 3):
/// L = w_cls·H(X_cls, y_cls) + w_dense·(1/N)·Σᵢ₌₁ᴺ H(Xᵢ, yᵢ), where H is the soft-target cross-entropy
/// H(X, y) = −Σ_c y_c·log softmax(X)_c, X_cls the class-token logits, Xᵢ the logits of patch token i and yᵢ its
/// (soft) token label. Both terms are averaged over the batch. The paper sets β = w_dense = 0.5
/// (<see cref="Config.TokenLabelSection.PaperDenseWeight"/>); the official code defaults to 1.0
/// (<see cref="Config.TokenLabelSection.OfficialDenseWeight"/>).
/// </summary>
public sealed record TokenLabelLoss(double ClsWeight = 1.0, double DenseWeight = Config.TokenLabelSection.PaperDenseWeight)
{
    /// <summary>
    /// The loss for class logits [B, C] with targets [B, C], and token logits [B, N, C] with token targets [B, N, C].
    /// </summary>
    public Tensor Compute(Tensor clsLogits, Tensor clsTargets, Tensor tokenLogits, Tensor tokenTargets)
    {
        if (tokenLogits.Dim != 3 || !tokenLogits.Shape.SequenceEqual(tokenTargets.Shape))
            throw new ArgumentException($"token labeling loss: token logits {tokenLogits.Describe()} and token targets {tokenTargets.Describe()} must both be [B, N, C]");
        if (clsLogits.Size(0) != tokenLogits.Size(0) || clsLogits.Size(-1) != tokenLogits.Size(-1))
            throw new ArgumentException($"token labeling loss: class logits {clsLogits.Describe()} do not match token logits {tokenLogits.Describe()}");
        using var scope = Scope.Enter();
        var cls = SoftTargetLoss.CrossEntropy(clsLogits, clsTargets);
        // (1/N)·Σᵢ H(Xᵢ, yᵢ), then the batch mean: the mean over all B·N tokens.
        var dense = F.LogSoftmax(tokenLogits, -1).Mul(tokenTargets).Sum(-1L).Neg().Mean();
        return scope.MoveOut(cls.Mul(ClsWeight).Add(dense.Mul(DenseWeight)));
    }
}
