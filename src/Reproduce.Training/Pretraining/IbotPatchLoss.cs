using Reproduce.Torch;
using Reproduce.Torch.Distributed;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// iBOT's masked-patch loss (Zhou et al. 2022; dinov2 <c>iBOTPatchLoss</c>): for the patches masked in the
/// student's input, the cross-entropy between the teacher's targets on the unmasked view and the student's
/// tempered softmax, each patch weighted by one over its image's number of masked patches, so every image with a
/// mask counts equally:
/// <code>
/// ℓ_i = Σ_k t_ik · log softmax(s_i / τ_s)_k                    (masked patch i of image b(i))
/// L   = −(1/B)·Σ_i w_i·ℓ_i,   w_i = 1 / max(1, #masked patches of b(i))
/// </code>
/// B counts every image of the batch, masked or not (<see cref="ComputeMasked"/>; <see cref="Compute"/> is the
/// dense form that scores every patch). Targets come from <see cref="CenteredTeacherLoss.SoftmaxCenterTeacher"/> with its own EMA
/// centre, or from Sinkhorn–Knopp with B = the number of masked patches.
/// </summary>
public sealed class IbotPatchLoss : CenteredTeacherLoss
{
    /// <summary>A loss over <paramref name="prototypes"/> outputs with a zero centre of the given type.</summary>
    public IbotPatchLoss(long prototypes, double studentTemperature = 0.1, double centerMomentum = 0.9,
        ScalarType centerType = ScalarType.Float32, Device? device = null)
        : base(prototypes, studentTemperature, centerMomentum, centerType, device)
    {
    }

    /// <summary>
    /// Moves the centre towards the teacher's patch mean: <paramref name="teacherPatchOutput"/> is [R, N, K], each of
    /// the R rows contributes the mean over its N patches (dinov2 passes the masked patches as one row, [1, M, K]).
    /// </summary>
    public void UpdateCenter(Tensor teacherPatchOutput, ProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(teacherPatchOutput);
        if (teacherPatchOutput.Dim != 3)
            throw new ArgumentException($"iBOT loss: teacher patch output {teacherPatchOutput.Describe()} must be [rows, patches, prototypes]");
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = Scope.Enter();
        Center.Update(teacherPatchOutput.Mean(1L).Sum(0L, keepDim: true), teacherPatchOutput.Size(0), group);
    }

    /// <summary>Sinkhorn–Knopp targets for the masked patches' teacher outputs [M, K], B = <paramref name="totalMasked"/> (over every rank).</summary>
    public static Tensor SinkhornKnoppTeacher(Tensor teacherMaskedOutput, double teacherTemperature, long totalMasked,
        int iterations = SinkhornKnopp.DefaultIterations, ProcessGroup? group = null) =>
        SinkhornKnopp.Assign(teacherMaskedOutput, teacherTemperature, totalMasked, iterations, group);

    /// <summary>
    /// The weights w_i [M] of the masked patches of <paramref name="masks"/> [B, N] (bool), in row-major order, of type
    /// <paramref name="dtype"/> (float32 by default, as dinov2's collate computes them).
    /// </summary>
    public static Tensor MaskWeights(Tensor masks, ScalarType dtype = ScalarType.Float32)
    {
        CheckMasks(masks);
        using var scope = Scope.Enter();
        var perImage = masks.Sum(-1L).To(ScalarType.Float64).Clamp(min: 1.0).Reciprocal().Unsqueeze(-1).ExpandAs(masks);
        return scope.MoveOut(perImage.MaskedSelect(masks).To(dtype));
    }

    /// <summary>
    /// L for the masked patches: student [M, K] and teacher targets [M, K] in the row-major order of
    /// <paramref name="masks"/> [B, N]; <paramref name="weights"/> [M] defaults to <see cref="MaskWeights"/>.
    /// </summary>
    public Tensor ComputeMasked(Tensor studentMasked, Tensor teacherMasked, Tensor masks, Tensor? weights = null)
    {
        ArgumentNullException.ThrowIfNull(studentMasked);
        ArgumentNullException.ThrowIfNull(teacherMasked);
        CheckMasks(masks);
        if (studentMasked.Dim != 2 || !studentMasked.Shape.SequenceEqual(teacherMasked.Shape))
            throw new ArgumentException($"iBOT loss: student {studentMasked.Describe()} and teacher {teacherMasked.Describe()} must both be [masked patches, K]");
        using var scope = Scope.Enter();
        var w = weights ?? MaskWeights(masks);
        if (w.Dim != 1 || w.Size(0) != studentMasked.Size(0))
            throw new ArgumentException($"iBOT loss: weights {w.Describe()} must give one weight per masked patch ({studentMasked.Size(0)})");
        var perPatch = teacherMasked.Mul(F.LogSoftmax(studentMasked.Div(StudentTemperature), -1)).Sum(-1L);
        return scope.MoveOut(perPatch.Mul(w.To(perPatch.DType)).Sum().Div((double)masks.Size(0)).Neg());
    }

    /// <summary>The dense form: student and teacher [B, N, K], masks [B, N]; per image the mean of ℓ over its masked patches, then −mean over images.</summary>
    public Tensor Compute(Tensor student, Tensor teacher, Tensor masks)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        CheckMasks(masks);
        if (student.Dim != 3 || !student.Shape.SequenceEqual(teacher.Shape) || student.Size(0) != masks.Size(0) || student.Size(1) != masks.Size(1))
            throw new ArgumentException($"iBOT loss: student {student.Describe()}, teacher {teacher.Describe()} and masks {masks.Describe()} must be [B, N, K], [B, N, K], [B, N]");
        using var scope = Scope.Enter();
        var perPatch = teacher.Mul(F.LogSoftmax(student.Div(StudentTemperature), -1)).Sum(-1L);
        var m = masks.To(perPatch.DType);
        var perImage = perPatch.Mul(m).Sum(-1L).Div(m.Sum(-1L).Clamp(min: 1.0));
        return scope.MoveOut(perImage.Mean().Neg());
    }

    private static void CheckMasks(Tensor masks)
    {
        ArgumentNullException.ThrowIfNull(masks);
        if (masks.Dim != 2 || masks.DType != ScalarType.Bool)
            throw new ArgumentException($"iBOT loss: masks {masks.Describe()} must be bool [B, N]");
    }
}
