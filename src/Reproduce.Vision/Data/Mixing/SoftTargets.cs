using Reproduce.Torch;

namespace Reproduce.Vision.Data.Mixing;

/// <summary>
/// Soft classification targets as timm/data/mixup.py builds them: smoothed one-hot rows with
/// off = ε/C and on = 1 − ε + off (each row sums to 1), and the mixture with the flipped batch
/// y_mix = λ·y + (1 − λ)·flip(y), where sample i is paired with sample B−1−i.
/// </summary>
public static class SoftTargets
{
    /// <summary>Smoothed one-hot targets [B,C] (float32) of int64 class indices [B].</summary>
    public static Tensor OneHot(Tensor labels, int numClasses, double smoothing = 0.0)
    {
        if (labels.Dim != 1) throw new ArgumentException($"SoftTargets.OneHot: labels must be [B], got {labels.Describe()}");
        if (smoothing is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(smoothing), $"SoftTargets.OneHot: smoothing {smoothing} is outside [0, 1)");
        using var s = Scope.Enter();
        var idx = labels.Long();
        if (labels.Numel > 0)
        {
            long min = idx.Min().ToInt64(), max = idx.Max().ToInt64();
            if (min < 0 || max >= numClasses) throw new ArgumentException($"SoftTargets.OneHot: labels span {min}..{max}, outside 0..{numClasses - 1}");
        }
        var off = smoothing / numClasses;
        var on = 1.0 - smoothing + off;
        var y = Torch.Torch.Full([labels.Size(0), numClasses], off, ScalarType.Float32, labels.Device);
        return s.MoveOut(y.Scatter(1, idx.Unsqueeze(1), on));
    }

    /// <summary>λ·y + (1 − λ)·flip(y) along the batch axis, for targets of any shape [B,…].</summary>
    public static Tensor MixWithFlipped(Tensor targets, double lam)
    {
        using var s = Scope.Enter();
        return s.MoveOut(targets.Mul(lam).Add(targets.Flip(0).Mul(1.0 - lam)));
    }

    /// <summary>Per-sample λ [B]: λᵢ·yᵢ + (1 − λᵢ)·y_{B−1−i} for targets [B,…].</summary>
    public static Tensor MixWithFlipped(Tensor targets, Tensor lam)
    {
        if (lam.Dim != 1 || lam.Size(0) != targets.Size(0))
            throw new ArgumentException($"SoftTargets.MixWithFlipped: λ {lam.Describe()} must be [B] for targets {targets.Describe()}");
        using var s = Scope.Enter();
        var shape = new long[targets.Dim];
        Array.Fill(shape, 1L);
        shape[0] = targets.Size(0);
        var l = lam.To(targets.DType).View(shape);
        return s.MoveOut(targets.Mul(l).Add(targets.Flip(0).Mul(l.Neg().Add(1.0))));
    }
}
