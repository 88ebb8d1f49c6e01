using Reproduce.Torch;
using Reproduce.Torch.Distributed;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// DINO's [CLS] loss (Caron et al. 2021; dinov2 <c>DINOLoss</c>): the cross-entropy between the teacher's target
/// distributions and the student's tempered softmax, summed over every (student crop, teacher crop) pair,
/// <code>L = −Σ_s Σ_t (1/B)·Σ_b Σ_k t_bk · log softmax(s_b / τ_s)_k</code>
/// with student temperature τ_s (0.1). The targets come from <see cref="CenteredTeacherLoss.SoftmaxCenterTeacher"/> (EMA centering,
/// followed by <see cref="UpdateCenter"/>) or <see cref="SinkhornKnoppTeacher"/>. Pairs of a crop with itself are
/// not excluded here: the caller passes the lists (dinov2 swaps the two global teacher crops and scales the sums
/// by the number of loss terms).
/// </summary>
public sealed class DinoClsLoss : CenteredTeacherLoss
{
    /// <summary>A loss over <paramref name="prototypes"/> outputs with a zero centre of the given type.</summary>
    public DinoClsLoss(long prototypes, double studentTemperature = 0.1, double centerMomentum = 0.9,
        ScalarType centerType = ScalarType.Float32, Device? device = null)
        : base(prototypes, studentTemperature, centerMomentum, centerType, device)
    {
    }

    /// <summary>Moves the centre towards the mean of <paramref name="teacherOutput"/> [B, K] (over every rank of <paramref name="group"/>).</summary>
    public void UpdateCenter(Tensor teacherOutput, ProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(teacherOutput);
        if (teacherOutput.Dim != 2)
            throw new ArgumentException($"DINO loss: teacher output {teacherOutput.Describe()} must be [samples, prototypes]");
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = Scope.Enter();
        Center.Update(teacherOutput.Sum(0L, keepDim: true), teacherOutput.Size(0), group);
    }

    /// <summary>Sinkhorn–Knopp targets for teacher outputs [B, K] (B = rows × world size).</summary>
    public static Tensor SinkhornKnoppTeacher(Tensor teacherOutput, double teacherTemperature, int iterations = SinkhornKnopp.DefaultIterations,
        ProcessGroup? group = null) =>
        SinkhornKnopp.Assign(teacherOutput, teacherTemperature, iterations: iterations, group: group);

    /// <summary>L for student outputs (each [B, K]) against teacher targets (each [B, K]); see the type's formula.</summary>
    public Tensor Compute(IReadOnlyList<Tensor> studentOutputs, IReadOnlyList<Tensor> teacherTargets)
    {
        ArgumentNullException.ThrowIfNull(studentOutputs);
        ArgumentNullException.ThrowIfNull(teacherTargets);
        if (studentOutputs.Count == 0 || teacherTargets.Count == 0)
            throw new ArgumentException("DINO loss: needs at least one student and one teacher output");
        foreach (var s in studentOutputs)
            foreach (var t in teacherTargets)
                if (!s.Shape.SequenceEqual(t.Shape) || s.Dim != 2)
                    throw new ArgumentException($"DINO loss: student {s.Describe()} and teacher {t.Describe()} must both be [B, K]");
        using var scope = Scope.Enter();
        Tensor? total = null;
        foreach (var s in studentOutputs)
        {
            var lsm = F.LogSoftmax(s.Div(StudentTemperature), -1);
            foreach (var t in teacherTargets)
            {
                var term = t.Mul(lsm).Sum(-1L).Mean();
                total = total is null ? term.Neg() : total.Sub(term);
            }
        }
        return scope.MoveOut(total!);
    }
}
