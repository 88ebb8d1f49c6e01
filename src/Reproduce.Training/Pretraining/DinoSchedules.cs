namespace Reproduce.Training.Pretraining;

/// <summary>DINOv2's schedule settings (dinov2 <c>ssl_default_config.yaml</c>: optim.*, teacher.*); defaults are the reference's.</summary>
/// <param name="Epochs">optim.epochs.</param>
/// <param name="EpochLength">train.OFFICIAL_EPOCH_LENGTH: iterations per epoch.</param>
/// <param name="Lr">optim.lr, the peak lr after the scaling rule (<see cref="DinoSchedules.SqrtScaledLr"/>).</param>
/// <param name="MinLr">optim.min_lr.</param>
/// <param name="WarmupEpochs">optim.warmup_epochs (lr warm-up from 0).</param>
/// <param name="WeightDecay">optim.weight_decay (start of the cosine).</param>
/// <param name="WeightDecayEnd">optim.weight_decay_end.</param>
/// <param name="MomentumTeacher">teacher.momentum_teacher.</param>
/// <param name="FinalMomentumTeacher">teacher.final_momentum_teacher.</param>
/// <param name="WarmupTeacherTemp">teacher.warmup_teacher_temp.</param>
/// <param name="TeacherTemp">teacher.teacher_temp.</param>
/// <param name="WarmupTeacherTempEpochs">teacher.warmup_teacher_temp_epochs.</param>
/// <param name="FreezeLastLayerEpochs">optim.freeze_last_layer_epochs (the head's last layer gets lr 0).</param>
public sealed record DinoScheduleSettings(
    long Epochs = 100, long EpochLength = 1250, double Lr = 0.004, double MinLr = 1e-6, long WarmupEpochs = 10,
    double WeightDecay = 0.04, double WeightDecayEnd = 0.4, double MomentumTeacher = 0.992, double FinalMomentumTeacher = 1,
    double WarmupTeacherTemp = 0.04, double TeacherTemp = 0.07, long WarmupTeacherTempEpochs = 30, long FreezeLastLayerEpochs = 1);

/// <summary>The values of one iteration of DINOv2 training.</summary>
/// <param name="Lr">Learning rate of every group but the head's last layer (before the group's multiplier).</param>
/// <param name="WeightDecay">Weight decay (before the group's multiplier).</param>
/// <param name="Momentum">Teacher EMA momentum.</param>
/// <param name="TeacherTemp">Teacher temperature.</param>
/// <param name="LastLayerLr">Learning rate of the head's last layer.</param>
public readonly record struct DinoScheduleValues(double Lr, double WeightDecay, double Momentum, double TeacherTemp, double LastLayerLr);

/// <summary>
/// DINOv2's five per-iteration schedules (dinov2 <c>train.build_schedulers</c>), each a <see cref="SslCosineSchedule"/>
/// over epochs × epoch length iterations:
/// lr: warm-up from 0 over the warm-up epochs, then cosine to min_lr; weight decay: cosine 0.04 → 0.4; teacher
/// momentum: cosine 0.992 → 1; teacher temperature: linear warm-up 0.04 → 0.07 over its warm-up epochs, then
/// constant; last-layer lr: the lr schedule with its first freeze_last_layer_epochs epochs set to 0.
/// </summary>
public sealed class DinoSchedules
{
    /// <summary>The schedules for <paramref name="settings"/>.</summary>
    public DinoSchedules(DinoScheduleSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Settings = settings;
        var total = settings.Epochs * settings.EpochLength;
        Lr = new SslCosineSchedule(settings.Lr, settings.MinLr, total, settings.WarmupEpochs * settings.EpochLength, 0);
        WeightDecay = new SslCosineSchedule(settings.WeightDecay, settings.WeightDecayEnd, total);
        Momentum = new SslCosineSchedule(settings.MomentumTeacher, settings.FinalMomentumTeacher, total);
        var tempIters = settings.WarmupTeacherTempEpochs * settings.EpochLength;
        TeacherTemp = new SslCosineSchedule(settings.TeacherTemp, settings.TeacherTemp, tempIters, tempIters, settings.WarmupTeacherTemp);
        FreezeIters = settings.FreezeLastLayerEpochs * settings.EpochLength;
    }

    /// <summary>The settings.</summary>
    public DinoScheduleSettings Settings { get; }

    /// <summary>The lr schedule.</summary>
    public SslCosineSchedule Lr { get; }

    /// <summary>The weight-decay schedule.</summary>
    public SslCosineSchedule WeightDecay { get; }

    /// <summary>The teacher-momentum schedule.</summary>
    public SslCosineSchedule Momentum { get; }

    /// <summary>The teacher-temperature schedule.</summary>
    public SslCosineSchedule TeacherTemp { get; }

    /// <summary>Iterations over which the head's last layer has lr 0.</summary>
    public long FreezeIters { get; }

    /// <summary>Every value at iteration <paramref name="it"/>.</summary>
    public DinoScheduleValues At(long it)
    {
        var lr = Lr[it];
        // the reference zeroes the first entries of a copy of the lr table; past the table both give min_lr
        var lastLayer = it < FreezeIters && it < Lr.TotalIters ? 0 : lr;
        return new DinoScheduleValues(lr, WeightDecay[it], Momentum[it], TeacherTemp[it], lastLayer);
    }

    /// <summary>DINOv2's <c>sqrt_wrt_1024</c> rule: lr = base_lr · √(batch per GPU · world size / 1024).</summary>
    public static double SqrtScaledLr(double baseLr, long batchPerGpu, int worldSize) =>
        baseLr * Math.Sqrt(batchPerGpu * worldSize / 1024.0);
}
