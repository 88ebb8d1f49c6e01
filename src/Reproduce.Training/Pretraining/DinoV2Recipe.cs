using Reproduce.Training.Config;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Pretraining;

/// <summary>The iteration counts of a DINOv2 run, from the configuration and the size of the data.</summary>
/// <param name="Total">Optimizer steps.</param>
/// <param name="EpochLength">Iterations per schedule epoch.</param>
/// <param name="Warmup">lr warm-up iterations.</param>
/// <param name="TeacherTempWarmup">Teacher-temperature warm-up iterations.</param>
/// <param name="FreezeLastLayer">Iterations with the heads' last layer frozen.</param>
public sealed record DinoV2Iterations(long Total, long EpochLength, long Warmup, long TeacherTempWarmup, long FreezeLastLayer);

/// <summary>
/// A <see cref="RunConfig"/> with <c>ssl.method=dinov2</c> turned into the pieces of <see cref="Pretraining"/>: the
/// backbone, heads, losses, batch builder and schedules (docs/dinov2.md has the key mapping), and the combinations
/// the DINOv2 trainer refuses.
/// </summary>
public static class DinoV2Recipe
{
    /// <summary>
    /// The backbone: the registry record of <c>model.*</c> without a classifier, with dynamic image size (local
    /// crops are smaller) at <c>model.img_size</c>, the global crop size.
    /// </summary>
    public static VitConfig Backbone(ModelEntry entry, SslSection ssl)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(ssl);
        if (entry.Config is not VitConfig vit)
            throw new ConfigException($"model.name: DINOv2 pretrains a VisionTransformer; '{entry.Name}' is a {entry.Config.GetType().Name}", "model.name");
        if (!vit.ClassToken) throw new ConfigException($"model.class_token: DINOv2 needs the class token ('{entry.Name}' has none)", "model.class_token");
        if (vit.ImgSize % vit.PatchSize != 0)
            throw new ConfigException($"model.img_size: the global crop size {vit.ImgSize} is not a multiple of the patch size {vit.PatchSize}", "model.img_size");
        if (ssl.LocalCrops > 0 && ssl.LocalCropSize > vit.ImgSize)
            throw new ConfigException($"ssl.local_crop_size: local crops ({ssl.LocalCropSize}) larger than the global ones (model.img_size {vit.ImgSize})", "ssl.local_crop_size");
        return vit with { NumClasses = 0, DynamicImgSize = true, MixToken = false, ReturnDense = false };
    }

    /// <summary>The DINO head (iBOT's too, or its own of the same sizes with <c>ssl.ibot_separate_head</c>).</summary>
    public static DinoHeadConfig Head(SslSection s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new DinoHeadConfig(s.HeadPrototypes, s.HeadHiddenDim, s.HeadBottleneckDim, s.HeadLayers);
    }

    /// <summary>Loss weights and centering.</summary>
    public static DinoV2LossSettings Losses(SslSection s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new DinoV2LossSettings(s.DinoLossWeight, s.KoleoLossWeight, s.IbotLossWeight,
            s.Centering == SslCentering.Ema ? TeacherCentering.Centering : TeacherCentering.SinkhornKnopp);
    }

    /// <summary>Multi-crop, photometric pipeline and masks, cropped by <paramref name="workers"/> threads (<c>data.workers</c>).</summary>
    public static DinoV2BatchBuilder Builder(SslSection s, VitConfig backbone, int workers = 0)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(backbone);
        return new DinoV2BatchBuilder(backbone.PatchSize)
        {
            Geometry = new MultiCropGeometry
            {
                GlobalSize = backbone.ImgSize, LocalSize = s.LocalCropSize, LocalCrops = s.LocalCrops,
                GlobalScale = (s.GlobalCropScale[0], s.GlobalCropScale[1]), LocalScale = (s.LocalCropScale[0], s.LocalCropScale[1]),
            },
            MaskRatio = (s.MaskRatio[0], s.MaskRatio[1]),
            MaskProbability = s.MaskSampleProbability,
            Workers = workers,
        };
    }

    /// <summary>
    /// The iteration counts for <paramref name="samples"/> training images at a global batch of
    /// <paramref name="globalBatch"/>: the epoch is <c>ssl.epoch_length</c> or one pass over the images; the length
    /// <c>optim.steps</c> or <c>optim.epochs</c> epochs; the lr warm-up <c>optim.warmup_steps</c> or <c>optim.warmup_epochs</c>.
    /// </summary>
    public static DinoV2Iterations Iterations(RunConfig config, long samples, long globalBatch)
    {
        ArgumentNullException.ThrowIfNull(config);
        var length = config.Ssl.EpochLength ?? samples / globalBatch;
        if (length < 1)
            throw new ConfigException($"data.batch_size: a global batch of {globalBatch} exceeds the {samples} training images", "data.batch_size");
        var o = config.Optim;
        long Epochs(double e) => (long)Math.Round(e * length);
        return new DinoV2Iterations(o.Steps ?? o.Epochs * length, length, o.WarmupSteps ?? Epochs(o.WarmupEpochs),
            Epochs(config.Ssl.WarmupTeacherTempEpochs), Epochs(config.Ssl.FreezeLastLayerEpochs));
    }

    /// <summary>The peak lr: <c>ssl.base_lr</c>·√(global batch / 1024) when set (<see cref="DinoSchedules.SqrtScaledLr"/>), else <c>optim.lr</c>.</summary>
    public static double PeakLr(RunConfig config, long batchPerProcess, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Ssl.BaseLr is { } b ? DinoSchedules.SqrtScaledLr(b, batchPerProcess, worldSize) : config.Optim.Lr;
    }

    /// <summary>The five schedules over <paramref name="it"/> (iteration counts given as epochs of length 1).</summary>
    public static DinoScheduleSettings Schedules(RunConfig config, DinoV2Iterations it, double peakLr)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(it);
        var s = config.Ssl;
        return new DinoScheduleSettings(it.Total, 1, peakLr, config.Optim.MinLr, it.Warmup, config.Optim.WeightDecay, s.WeightDecayEnd,
            s.MomentumTeacher, s.FinalMomentumTeacher, s.WarmupTeacherTemp, s.TeacherTemp, it.TeacherTempWarmup, it.FreezeLastLayer);
    }

    /// <summary>
    /// The combinations the DINOv2 trainer refuses (a <see cref="ConfigException"/> naming the key): the keys of
    /// supervised training it would otherwise ignore silently.
    /// </summary>
    public static void CheckSupported(RunConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        static void Reject(bool condition, string key, string why)
        {
            if (condition) throw new ConfigException($"{key}: {why} (ssl.method=dinov2)", key);
        }
        Reject(c.Optim.Optimizer != OptimizerKind.AdamW, "optim.optimizer", "DINOv2 trains with AdamW");
        Reject(c.Optim.Schedule != ScheduleKind.Cosine, "optim.schedule", "DINOv2's lr schedule is a warm-up then a cosine");
        Reject(c.Optim.Accumulation != 1, "optim.accumulation", "gradient accumulation is not supported by the DINOv2 trainer; use more processes");
        Reject(c.Optim.Ema, "optim.ema", "the teacher is DINOv2's EMA; a second EMA is not supported");
        Reject(c.TokenLabel.Enabled, "token_label.enabled", "token labeling is supervised");
        Reject(c.Aug.Mixtoken, "aug.mixtoken", "MixToken is supervised");
        Reject(c.Model.Weights is not null, "model.weights", "DINOv2 pretrains from scratch here");
        Reject(c.Data.Dataset == "fashion-mnist", "data.dataset", "the DINOv2 colour pipeline needs RGB images (fashion-objects or imagenet)");
    }
}
