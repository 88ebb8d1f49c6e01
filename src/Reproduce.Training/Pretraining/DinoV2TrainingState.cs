using Reproduce.Torch.Nn;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// What a DINOv2 checkpoint holds as its model state, in one module: the student under <c>student.</c>, the teacher
/// under <c>teacher.</c> (backbone, mask token, heads) and the two teacher centres as the buffers
/// <c>dino_center</c> and <c>ibot_center</c> (aliases of the losses' centres, so loading a checkpoint moves them too).
/// It owns nothing: disposing it frees what <see cref="DinoV2Step"/> frees (disposal is idempotent).
/// </summary>
public sealed class DinoV2TrainingState : Module
{
    /// <summary>The state of <paramref name="step"/>.</summary>
    public DinoV2TrainingState(DinoV2Step step)
    {
        ArgumentNullException.ThrowIfNull(step);
        Register("student", step.Student);
        Register("teacher", step.Teacher);
        RegisterBuffer("dino_center", step.DinoLoss.Center.Center);
        RegisterBuffer("ibot_center", step.IbotLoss.Center.Center);
    }
}
