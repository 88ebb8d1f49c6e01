using Reproduce.Torch;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// What DINO's [CLS] loss and iBOT's patch loss share (dinov2 <c>DINOLoss</c>, <c>iBOTPatchLoss</c>): the student
/// temperature τ_s and an EMA centre c of the teacher's outputs, with the centred, sharpened targets
/// <c>softmax((t − c)/τ_t)</c> computed from it.
/// </summary>
public abstract class CenteredTeacherLoss : IDisposable
{
    /// <summary>A loss over <paramref name="prototypes"/> outputs with a zero centre of the given type.</summary>
    protected CenteredTeacherLoss(long prototypes, double studentTemperature, double centerMomentum, ScalarType centerType, Device? device)
    {
        TeacherCenter.CheckTemperature(studentTemperature);
        StudentTemperature = studentTemperature;
        Center = new TeacherCenter(prototypes, centerMomentum, centerType, device);
    }

    /// <summary>τ_s.</summary>
    public double StudentTemperature { get; }

    /// <summary>The EMA centre of the teacher's outputs.</summary>
    public TeacherCenter Center { get; }

    /// <summary>Centred, sharpened targets softmax((t − c)/τ_t) for teacher outputs [..., K] (no autograd).</summary>
    public Tensor SoftmaxCenterTeacher(Tensor teacherOutput, double teacherTemperature) => Center.SoftmaxCentered(teacherOutput, teacherTemperature);

    /// <inheritdoc/>
    public void Dispose()
    {
        Center.Dispose();
        GC.SuppressFinalize(this);
    }
}
