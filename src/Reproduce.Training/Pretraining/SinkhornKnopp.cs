using Reproduce.Torch;
using Reproduce.Torch.Distributed;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// Sinkhorn–Knopp teacher targets (SwAV; dinov2 <c>sinkhorn_knopp_teacher</c>), the alternative to centering:
/// with teacher outputs t [B_local, K] and temperature τ,
/// <code>
/// Q = exp(t / τ)ᵀ                      (K × B_local)
/// Q ← Q / ΣQ                           (sum over every rank)
/// repeat n times:  Q ← Q / (K · row sums)      (row sums over every rank: each prototype gets mass 1/K)
///                  Q ← Q / (B · column sums)   (each sample gets mass 1/B)
/// return (B · Q)ᵀ                      (each row a distribution over the K prototypes)
/// </code>
/// B is the number of samples over all ranks: B_local · world size for the DINO [CLS] targets, and the all-reduced
/// number of masked patches for iBOT. Half-precision inputs are computed in float32 as in the reference
/// (<c>.float()</c>); float32 and float64 inputs keep their type.
/// </summary>
public static class SinkhornKnopp
{
    /// <summary>DINOv2's number of iterations.</summary>
    public const int DefaultIterations = 3;

    /// <summary>The assignment [B_local, K] for teacher outputs [B_local, K]; see the type's formula.</summary>
    /// <param name="teacherOutput">Teacher head outputs [B_local, K].</param>
    /// <param name="temperature">τ.</param>
    /// <param name="totalSamples">B, the number of samples over all ranks (null: rows × world size).</param>
    /// <param name="iterations">n.</param>
    /// <param name="group">Sums ΣQ and the row sums over the ranks when given.</param>
    public static Tensor Assign(Tensor teacherOutput, double temperature, double? totalSamples = null, int iterations = DefaultIterations,
        ProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(teacherOutput);
        TeacherCenter.CheckTemperature(temperature);
        ArgumentOutOfRangeException.ThrowIfNegative(iterations);
        if (teacherOutput.Dim != 2)
            throw new ArgumentException($"Sinkhorn-Knopp: teacher output {teacherOutput.Describe()} must be [samples, prototypes]");
        var b = totalSamples ?? (double)teacherOutput.Size(0) * (group?.WorldSize ?? 1);
        if (!(b > 0)) throw new ArgumentOutOfRangeException(nameof(totalSamples), b, "Sinkhorn-Knopp: the number of samples must be positive");
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = Scope.Enter();
        var t = teacherOutput.DType is ScalarType.Float16 or ScalarType.BFloat16 ? teacherOutput.To(ScalarType.Float32) : teacherOutput;
        var q = t.Div(temperature).Exp().T();
        var k = (double)q.Size(0);
        q = q.Div(AllSum(q.Sum(), group));
        for (var it = 0; it < iterations; it++)
        {
            q = q.Div(AllSum(q.Sum(1L, keepDim: true), group)).Div(k);
            q = q.Div(q.Sum(0L, keepDim: true)).Div(b);
        }
        return scope.MoveOut(q.Mul(b).T());
    }

    private static Tensor AllSum(Tensor t, ProcessGroup? group)
    {
        if (group is null) return t;
        var c = t.Contiguous().Clone();
        using var work = group.AllReduce(c);
        work.Wait();
        return c;
    }
}
