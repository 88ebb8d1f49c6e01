using Reproduce.Torch;
using Reproduce.Torch.Optim;
using Reproduce.Training.Train;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Pretraining;

/// <summary>The settings of a single-process DINOv2 pretraining run.</summary>
/// <param name="Backbone">The ViT (class token required; dynamic_img_size when local crops are smaller).</param>
/// <param name="Head">The DINO head (shared with iBOT).</param>
/// <param name="BatchSize">Images per step.</param>
/// <param name="Schedules">Schedules; their epoch count × epoch length is the number of steps.</param>
/// <param name="Builder">Crops, photometric pipeline and masks.</param>
/// <param name="Losses">Loss weights and the centering kind.</param>
/// <param name="Seed">Seeds the data order, the augmentations and the initial weights.</param>
/// <param name="ClipGrad">optim.clip_grad (3.0), per student submodule as dinov2 clips.</param>
public sealed record DinoV2PretrainOptions(VitConfig Backbone, DinoHeadConfig Head, int BatchSize, DinoScheduleSettings Schedules,
    DinoV2BatchBuilder Builder, DinoV2LossSettings Losses, ulong Seed = 0, double ClipGrad = 3.0);

/// <summary>One logged step.</summary>
/// <param name="Step">Optimizer step (0-based).</param>
/// <param name="Losses">The step's loss terms (total as a number).</param>
/// <param name="Total">The weighted total.</param>
/// <param name="Values">The schedules' values at that step.</param>
public sealed record DinoV2StepLog(long Step, DinoV2Losses Losses, double Total, DinoScheduleValues Values);

/// <summary>
/// A single-process DINOv2 pretraining loop (dinov2 <c>train.do_train</c> without FSDP, fp16 or checkpoints): per
/// step t, the schedules' values at t go into the AdamW groups (<see cref="DinoParamGroups"/>), the batch is built
/// (<see cref="DinoV2BatchBuilder"/>) from the images of a per-epoch seeded permutation (the last partial batch is
/// dropped), the losses are back-propagated, each student submodule's gradient is clipped to norm 3, AdamW steps and
/// the teacher follows with the scheduled momentum. The teacher backbone (<see cref="DinoV2Step.Teacher"/>) is the result.
/// </summary>
public sealed class DinoV2Pretrainer : IDisposable
{
    private readonly List<DinoParamGroup> _groups;
    private readonly AdamW _optimizer;

    /// <summary>Builds student, teacher, optimizer and schedules (weights from the seeded default generator).</summary>
    public DinoV2Pretrainer(DinoV2PretrainOptions options, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "DINOv2: batch size must be at least 1");
        Options = options;
        Torch.Torch.ManualSeed(options.Seed);
        Step = new DinoV2Step(options.Backbone, options.Head, settings: options.Losses, device: device);
        Schedules = new DinoSchedules(options.Schedules);
        _groups = DinoParamGroups.Create(Step.Student);
        _optimizer = new AdamW(_groups.Select(g => g.Group), lr: options.Schedules.Lr, weightDecay: options.Schedules.WeightDecay);
    }

    /// <summary>The settings.</summary>
    public DinoV2PretrainOptions Options { get; }

    /// <summary>Student, teacher and losses.</summary>
    public DinoV2Step Step { get; }

    /// <summary>The schedules.</summary>
    public DinoSchedules Schedules { get; }

    /// <summary>Total optimizer steps.</summary>
    public long TotalSteps => Options.Schedules.Epochs * Options.Schedules.EpochLength;

    /// <summary>Runs steps [<paramref name="from"/>, <paramref name="to"/>) over <paramref name="dataset"/>, reporting each.</summary>
    public void Run(IImageDataset<ClassificationSample> dataset, long from, long to, Action<DinoV2StepLog>? onStep = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var perEpoch = dataset.Count / Options.BatchSize;
        if (perEpoch == 0) throw new ArgumentException($"DINOv2: {dataset.Name} has {dataset.Count} images, fewer than one batch of {Options.BatchSize}");
        for (var t = from; t < to; t++)
        {
            using var scope = Scope.Enter();
            var epoch = t / perEpoch;
            var order = DataRandom.Create(Options.Seed, 0x5353_4C4FUL, (ulong)epoch).Permutation(dataset.Count);
            var first = (int)(t % perEpoch) * Options.BatchSize;
            var samples = Enumerable.Range(first, Options.BatchSize).Select(i => dataset.Load(order[i])).ToList();
            var batch = Options.Builder.Build(samples.Select(s => s.Image).ToList(),
                Enumerable.Range(first, Options.BatchSize).Select(i => epoch * dataset.Count + (long)i).ToList(), Options.Seed, t);
            var values = Schedules.At(t);
            DinoParamGroups.Apply(_groups, values);
            _optimizer.ZeroGrad();
            var losses = Step.Compute(batch, values.TeacherTemp);
            var total = losses.Total.ToDouble();
            if (!double.IsFinite(total)) throw new TrainingDivergedException($"DINOv2: loss {total} at step {t}");
            losses.Total.Backward();
            if (Options.ClipGrad > 0)
            {
                GradClip.ClipGradNorm([.. Step.Student.Backbone.Parameters(), Step.Student.MaskToken], Options.ClipGrad);
                GradClip.ClipGradNorm(Step.Student.DinoHead.Parameters(), Options.ClipGrad);
                if (Step.Student.IbotHead is { } ibot) GradClip.ClipGradNorm(ibot.Parameters(), Options.ClipGrad);
            }
            _optimizer.Step();
            Step.UpdateTeacher(values.Momentum);
            onStep?.Invoke(new DinoV2StepLog(t, losses, total, values));
            foreach (var s in samples) s.Dispose();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _optimizer.Dispose();
        Step.Dispose();
    }
}
