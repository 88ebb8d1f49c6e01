using System.Diagnostics;
using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Config;
using Reproduce.Training.Runs;
using Reproduce.Training.Train.Distributed;
using Reproduce.Vision.Data.Loading;
using Reproduce.Vision.Data.Mixing;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Metrics;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Train;

/// <summary>
/// Supervised classification training (one loop file, nanoGPT style): the model from the registry by name plus
/// overrides; AdamW / SGD / LAMB with timm's weight-decay exclusions; linear warmup then cosine, poly or constant
/// (per optimizer update); gradient accumulation and clipping; EMA; label smoothing; Mixup / CutMix on the data
/// side; soft-target cross-entropy or BCE (<see cref="SoftTargetLoss"/>).
/// <para>
/// Data order: a seeded permutation per epoch (<see cref="EpochPlan"/>), the last partial batch dropped; an epoch
/// is ⌊batches / accumulation⌋ optimizer updates. Mixing draws from a generator seeded by (seed, step, micro-step),
/// so no sampler state beyond (epoch, position) is needed. Checkpoints save model, EMA, optimizer, the default
/// generator, (epoch, position) and the loss-log window, so a resumed run ends bit-identical to an uninterrupted
/// one on CPU; metrics.jsonl lines after the checkpoint are dropped on resume.
/// </para>
/// <para>
/// Token labeling (<c>token_label.enabled</c>): the LV-ViT training forward (<see cref="VisionTransformer.ForwardTokenLabeling"/>,
/// with MixToken when <c>aug.mixtoken</c>), targets from the token-label store (<see cref="TokenLabelTargets"/>) and
/// <see cref="TokenLabelLoss"/>.
/// </para>
/// <para>
/// Train-time image augmentation: <see cref="TrainAugmentation"/> (timm's train transform from <c>aug.*</c>), each
/// sample drawing from its own generator seeded by (seed, step, micro-step, position), so resume stays exact.
/// </para>
/// <para>
/// <c>ssl.method=dinov2</c>: self-supervised DINOv2 pretraining in the same run machinery (<see cref="DinoV2TrainRun"/>).
/// </para>
/// <para>
/// <c>model.weights</c>: <see cref="InitialWeights"/> (strict, except a classifier with another class count);
/// <c>optim.layer_decay</c>: <see cref="LayerDecayGroups"/> (timm's param_groups_layer_decay); <c>autocast_bf16</c> wraps
/// the forward and loss in bf16 autocast on the run's device (CPU or a bf16-capable CUDA device); <c>tf32</c> turns on TF32 matmuls and convolutions on CUDA (an error on the CPU).
/// </para>
/// </summary>
public static partial class Trainer
{
    /// <summary>
    /// File in the run directory holding the final model's weights by timm key (the state at the last step, written
    /// when the run finishes), e.g. for <c>reproduce probe seg --weights RUN/model.safetensors</c> or <c>model.weights</c>.
    /// </summary>
    public const string ModelWeightsFile = "model.safetensors";

    /// <summary>The EMA weights at the last step (with <c>optim.ema</c>), same keys as <see cref="ModelWeightsFile"/>.</summary>
    public const string EmaWeightsFile = "model_ema.safetensors";

    /// <summary>
    /// Trains <paramref name="config"/> in <paramref name="outDir"/> (config.json, metrics.jsonl, checkpoints/,
    /// final.json). A run that already finished with the same configuration is skipped.
    /// </summary>
    public static TrainResult Run(RunConfig config, string outDir, TrainOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(outDir);
        options ??= new TrainOptions();
        Check(config);
        Bf16Support.Check(config);
        // A finished run is skipped without reading its inputs; any other is refused before its directory is touched.
        if (!RunDirectory.IsFinishedAt(outDir)) RunInputs.Check(config);
        var dp = DataParallel.Current; // launched as one rank of several (torchrun / SLURM variables): DDP, rank 0 writes
        options = DataParallelTraining.Quiet(options, dp);
        var run = dp is null ? RunDirectory.OpenOrCreateAt(outDir, config) : dp.MainFirst(() => RunDirectory.OpenOrCreateAt(outDir, config));
        if (run.IsFinished)
        {
            options.OnMessage?.Invoke($"run '{run.Path}' already finished (config hash {run.Hash[..12]}); skipped");
            return new TrainResult(run, run.ReadFinal(), Skipped: true);
        }
        if (config.Threads > 0) Torch.Torch.NumThreads = config.Threads;
        var device = Device.Parse(dp?.DeviceFor(config.Device) ?? config.Device);
        if (config.Tf32) (Torch.Torch.AllowTf32Matmul, Torch.Torch.AllowTf32Cudnn) = (true, true); // CUDA only (Validate)
        if (config.Ssl.Enabled) return DinoV2TrainRun.Run(config, run, options, device, dp);
        var train = ClassificationData.Open(config, config.Data.TrainSplit, config.Data.TrainLimit);
        train = train.WithAugmentation(TrainAugmentation.Create(config.Aug, train.Eval, config.TokenLabel.Enabled));
        var eval = ClassificationData.Open(config, ClassificationData.DefaultEvalSplit(config.Data), config.Data.EvalLimit);

        Torch.Torch.ManualSeed((ulong)config.Seed);
        var entry = ModelFor(config);
        using var model = CreateModel(config, entry, device);
        if (config.Model.Weights is { } weights)
        {
            var skipped = InitialWeights.Load(model, weights);
            options.OnMessage?.Invoke($"initial weights from '{weights}'" + (skipped.Count > 0 ? $" (classifier not loaded: {string.Join(", ", skipped)})" : ""));
        }
        using var ddp = DataParallelTraining.Start(dp, model);
        using var emaModel = config.Optim.Ema ? CreateModel(config, entry, device) : null;
        using var optimizer = CreateOptimizer(config.Optim, model);
        using var ema = config.Optim.Ema ? new ModelEma(model, config.Optim.EmaDecay) : null;
        var labels = config.TokenLabel.Enabled ? TokenLabelSources.Open(config.TokenLabel.Source!) : null;
        using var labelsLifetime = labels as IDisposable;
        var targets = labels is null ? null
            : new TokenLabelTargets(labels, train.SampleKey, train.NumClasses, config.TokenLabel.ClassTarget, config.Aug.LabelSmoothing);
        return new Loop(config, run, options, device, train, eval, model, emaModel, optimizer, ema, targets, ddp).Execute();
    }

    /// <summary>
    /// Everything decided by the configuration alone, before any data, weights or token labels are read: the keys'
    /// values (<see cref="RunConfig.Validate"/>), the combinations the trainer supports (<see cref="CheckSupported"/>)
    /// and the model record (<see cref="CheckModel"/>).
    /// </summary>
    public static void Check(RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate("");
        CheckSupported(config);
        CheckModel(config);
    }

    /// <summary>
    /// The model record, validated as it will be built, without building it. A <see cref="ConfigException"/> here is
    /// a malformed configuration (an unknown model or option): a mistake to fix, not a result.
    /// </summary>
    public static void CheckModel(RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var entry = ModelFor(config);
        if (config.Ssl.Enabled) _ = Pretraining.DinoV2Recipe.Backbone(entry, config.Ssl);
    }

    /// <summary>The model of <paramref name="entry"/> (see <see cref="ModelFor"/>) as a classifier.</summary>
    public static Module<Tensor, Tensor> CreateModel(RunConfig config, ModelEntry entry, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(entry);
        Module module;
        try
        {
            module = entry.Create(device);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"model: {e.Message}", "model", inner: e);
        }
        if (module is not Module<Tensor, Tensor> classifier)
        {
            module.Dispose();
            throw new ConfigException($"model.name: '{config.Model.Name}' is not an image classifier", "model.name");
        }
        return classifier;
    }

    /// <summary>
    /// The model the configuration trains: the registry record with the <c>model.*</c> keys, plus
    /// <c>return_dense=true</c> with token labeling and <c>mix_token=true</c> with <c>aug.mixtoken</c>. Without token
    /// labels a registry default of <c>mix_token=true</c> (the LV-ViT entries) is turned off unless <c>model.mix_token</c>
    /// was set explicitly, so any registered model trains plainly from its name: MixToken's loss needs token labels.
    /// </summary>
    public static ModelEntry ModelFor(RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var entry = config.Model.Resolve();
        if (entry.Config is not VitConfig vit)
        {
            if (config.TokenLabel.Enabled || config.Aug.Mixtoken)
                throw new ConfigException($"token_label.enabled: token labeling needs a VisionTransformer model; '{config.Model.Name}' is a {entry.Config.GetType().Name}", "token_label.enabled");
            return entry;
        }
        if (config.TokenLabel.Enabled) vit = vit with { ReturnDense = true };
        if (config.Aug.Mixtoken) vit = vit with { MixToken = true };
        else if (!config.TokenLabel.Enabled && !config.Model.IsSet("mix_token") && vit.MixToken) vit = vit with { MixToken = false };
        try
        {
            return entry.With(vit);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"model: {e.Message}", "model", inner: e);
        }
    }

    private static Optimizer CreateOptimizer(OptimSection o, Module model)
    {
        var groups = o.LayerDecay is { } layerDecay
            ? LayerDecayGroups.Create(model, o.WeightDecay, layerDecay, o.NoWeightDecay ?? model.NoWeightDecay())
            : ParamGroups.WeightDecayExclusion(model, o.WeightDecay, o.NoWeightDecay);
        return o.Optimizer switch
        {
            OptimizerKind.AdamW => new AdamW(groups, o.Lr, o.WeightDecay, new AdamWOptions(o.Betas[0], o.Betas[1], o.Eps)),
            OptimizerKind.Sgd => new Sgd(groups, o.Lr, o.WeightDecay, new SgdOptions(o.Momentum)),
            OptimizerKind.Lamb => new Lamb(groups, o.Lr, o.WeightDecay, new LambOptions(o.Betas[0], o.Betas[1], o.Eps)),
            _ => throw new ConfigException($"optim.optimizer: unknown optimizer {o.Optimizer}", "optim.optimizer"),
        };
    }

    /// <summary>
    /// The combinations of well-formed values the trainer supports. A <see cref="ConfigException"/> here is a refusal:
    /// <c>reproduce train</c> exits with 3 and the scripts record it as the row's outcome.
    /// </summary>
    public static void CheckSupported(RunConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        static void Reject(bool condition, string key, string what)
        {
            if (condition) throw new ConfigException($"{key}: {what} is not supported by the classification trainer yet; turn it off for this run", key);
        }
        if (c.Aug.Mixtoken && !c.TokenLabel.Enabled)
            throw new ConfigException("aug.mixtoken: MixToken trains the token logits against token labels; set token_label.enabled=true and token_label.source", "aug.mixtoken");
        if (!c.TokenLabel.Enabled && c.Model.IsSet("mix_token") && c.Model.Keys["mix_token"]?.GetValue<bool>() == true)
            throw new ConfigException("model.mix_token: MixToken trains the token logits against token labels; set token_label.enabled=true and token_label.source, or model.mix_token=false", "model.mix_token");
        if (c.TokenLabel.Enabled && (c.Aug.Mixup > 0 || c.Aug.Cutmix > 0))
            throw new ConfigException("aug.mixup / aug.cutmix: with token labeling use MixToken instead (LV-ViT sets mixup and cutmix to 0)", "aug.mixup");
        if (c.Tf32 && !c.Device.StartsWith("cuda", StringComparison.Ordinal))
            throw new ConfigException($"tf32: TF32 is a CUDA matmul/convolution mode; device is '{c.Device}' (set tf32=false or device=cuda)", "tf32");
        if (c.Ssl.Enabled)
        {
            Pretraining.DinoV2Recipe.CheckSupported(c); // the classification rules below (mixing, token labels) do not apply
            return;
        }
        Reject(c.TokenLabel.LabelSize is not null, "token_label.label_size", "a label grid other than the model's token grid");
        if ((c.Aug.Mixup > 0 || c.Aug.Cutmix > 0) && c.Data.BatchSize % 2 != 0)
            throw new ConfigException($"data.batch_size: Mixup/CutMix need an even batch size (got {c.Data.BatchSize})", "data.batch_size");
    }
}
