using Reproduce.Torch;
using Reproduce.Training.Config;

namespace Reproduce.Training.Train;

/// <summary>
/// Classification losses on soft targets (one-hot, smoothed, or mixed by Mixup/CutMix/MixToken).
/// <list type="bullet">
/// <item>Cross-entropy (timm <c>SoftTargetCrossEntropy</c>): H(X, y) = −(1/B)·Σ_b Σ_c y_bc · log softmax(X_b)_c.</item>
/// <item>Binary cross-entropy (DeiT III, timm <c>BinaryCrossEntropy</c>):
/// −(1/(B·C))·Σ_b Σ_c [y_bc·log σ(X_bc) + (1 − y_bc)·log(1 − σ(X_bc))].</item>
/// <item>The same on binarised targets 1[y_bc &gt; 0] (DeiT III's <c>targets.gt(0.0)</c> after Mixup/CutMix).</item>
/// </list>
/// </summary>
public static class SoftTargetLoss
{
    /// <summary>Soft-target cross-entropy H(X, y) per row [B] (no reduction); logits and targets are [B, C].</summary>
    public static Tensor CrossEntropyPerRow(Tensor logits, Tensor targets)
    {
        CheckShapes(logits, targets);
        return F.LogSoftmax(logits, -1).Mul(targets).Sum(-1L).Neg();
    }

    /// <summary>Soft-target cross-entropy averaged over the batch.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets) => CrossEntropyPerRow(logits, targets).Mean();

    /// <summary>The configured loss, averaged over the batch (and classes for BCE).</summary>
    public static Tensor Compute(LossKind kind, Tensor logits, Tensor targets)
    {
        CheckShapes(logits, targets);
        return kind switch
        {
            LossKind.CrossEntropy => CrossEntropy(logits, targets),
            LossKind.BinaryCrossEntropy => F.BinaryCrossEntropyWithLogits(logits, targets.To(logits.DType)),
            LossKind.BinaryCrossEntropyBinarized => F.BinaryCrossEntropyWithLogits(logits, Binarize(targets).To(logits.DType)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown loss"),
        };
    }

    /// <summary>DeiT III's binarised targets: 1 where the (mixed) target is positive, else 0, in the targets' type.</summary>
    public static Tensor Binarize(Tensor targets) => targets.Gt(0.0).To(targets.DType);

    private static void CheckShapes(Tensor logits, Tensor targets)
    {
        if (!logits.Shape.SequenceEqual(targets.Shape))
            throw new ArgumentException($"soft-target loss: logits {logits.Describe()} and targets {targets.Describe()} must have the same shape");
    }
}
