using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Training.Config;
using Reproduce.Training.Train;
using Reproduce.Training.Train.Distributed;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.FashionScenes;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Probes;

/// <summary>
/// <c>reproduce probe cls</c>: DINOv2's linear evaluation (<see cref="ClassificationProbe"/>) driven by a
/// <see cref="RunConfig"/>, into a run directory (<c>config.json</c>, <c>metrics.jsonl</c>, <c>final.json</c>,
/// <c>heads.safetensors</c>). Keys read: <c>model.*</c> (a ViT with a class token; built without its classifier, whose
/// weights are ignored), <c>model.weights</c>; <c>data.dataset</c> (fashion-objects, fashion-mnist, imagenet),
/// <c>data.root</c>, <c>data.batch_size</c> (per rank), <c>data.eval_batch_size</c>, <c>data.img_size</c>,
/// <c>data.crop_pct</c>, <c>data.interpolation</c>, <c>data.train_split</c>, <c>data.eval_split</c>,
/// <c>data.train_limit</c>, <c>data.eval_limit</c>, <c>data.workers</c>; <c>optim.optimizer</c> (sgd),
/// <c>optim.schedule</c> (cosine), <c>optim.lr</c> (the grid's lr when <c>probe.lrs</c> is null), <c>optim.weight_decay</c>,
/// <c>optim.steps</c>, <c>optim.min_lr</c> (the cosine's floor; 0 in the defaults), <c>optim.warmup_steps</c> and
/// <c>optim.warmup_lr</c> (none in the defaults); <c>aug.scale</c>, <c>aug.ratio</c>, <c>aug.hflip</c>, <c>aug.no_aug</c> (no other <c>aug.*</c> key);
/// <c>probe.n_last_blocks</c>, <c>probe.avgpool</c>, <c>probe.lrs</c>; <c>seed</c>, <c>threads</c>,
/// <c>device</c>. Under <c>reproduce launch</c> each rank takes its share of every global batch, the heads' gradients are
/// averaged and the evaluation is sharded, rank 0 writing.
/// </summary>
public static class ClassificationProbeRun
{
    /// <summary>File name of the trained heads (DINOv2's keys: <c>classifiers_dict.{head}.linear.weight|bias</c>).</summary>
    public const string HeadsFile = "heads.safetensors";

    /// <summary>The probe defaults for <c>probe cls</c>: DINOv2's SGD + cosine recipe at CPU scale on fashion-objects.</summary>
    public static IReadOnlyList<string> DefaultOverrides =>
    [
        "name=probe-cls", "probe.task=classification", "model.name=vit_tiny_scenes64", "data.dataset=fashion-objects",
        "data.batch_size=64", "data.eval_batch_size=250", "optim.optimizer=sgd", "optim.schedule=cosine",
        $"optim.lr={DefaultLr.ToString(CultureInfo.InvariantCulture)}", "optim.momentum=0.9", "optim.weight_decay=0",
        "optim.steps=300", "optim.warmup_steps=0", "optim.min_lr=0",
    ];

    /// <summary>
    /// The default base lr (scaled by global batch / 256 as DINOv2's <c>scale_lr</c>: 0.25 at batch 64). DINOv2 searches
    /// 1e-5 … 0.1 over 12,500 steps; in 300 steps on fashion-objects, base 1 beat 0.1 and 0.01 for a random and a
    /// trained backbone alike (Probes/README.md).
    /// </summary>
    public const double DefaultLr = 1.0;

    /// <summary>
    /// The grid of heads: every n of <c>probe.n_last_blocks</c> (null: [1, 4], or [1] for a backbone of fewer than 4
    /// blocks) × avgpool of <c>probe.avgpool</c> (null: [false, true]) × lr of <c>probe.lrs</c> (null: [<c>optim.lr</c>]),
    /// each lr scaled by <paramref name="globalBatch"/> / 256, in DINOv2's order (n, then avgpool, then lr).
    /// An n above <paramref name="depth"/> is a <see cref="ConfigException"/> naming <c>probe.n_last_blocks</c>.
    /// </summary>
    public static IReadOnlyList<LinearHeadSpec> Grid(RunConfig config, int depth, int globalBatch)
    {
        ArgumentNullException.ThrowIfNull(config);
        var p = config.Probe;
        var ns = p.NLastBlocks ?? (depth >= 4 ? [1, 4] : [1]);
        if (ns.FirstOrDefault(n => n > depth) is var bad and > 0)
            throw new ConfigException($"probe.n_last_blocks: n = {bad} exceeds the {depth} blocks of '{config.Model.Name}'", "probe.n_last_blocks");
        var pools = p.Avgpool ?? [false, true];
        var lrs = p.Lrs ?? [config.Optim.Lr];
        return [.. from n in ns from a in pools from lr in lrs select new LinearHeadSpec(n, a, lr * globalBatch / 256.0)];
    }

    /// <summary>
    /// What the configuration alone decides for a classification probe, before anything is written: <see cref="ProbeRun.Check"/>,
    /// SGD with the cosine schedule, a classification dataset, the grid against the backbone's depth, and a class token.
    /// </summary>
    public static void Check(RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        ProbeRun.Check(config);
        if (config.Optim.Optimizer != OptimizerKind.Sgd)
            throw new ConfigException($"optim.optimizer: the linear classification probe trains with SGD (DINOv2); set optim.optimizer=sgd (got {ConfigSchema.EnumName(config.Optim.Optimizer)})", "optim.optimizer");
        if (config.Optim.Schedule != ScheduleKind.Cosine)
            throw new ConfigException($"optim.schedule: the linear classification probe uses the cosine schedule (DINOv2); set optim.schedule=cosine (got {ConfigSchema.EnumName(config.Optim.Schedule)})", "optim.schedule");
        if (!ClassificationData.Supported.Contains(config.Data.Dataset))
            throw new ConfigException($"data.dataset: the linear classification probe reads a classification set ({string.Join(", ", ClassificationData.Supported)}); got '{config.Data.Dataset}'", "data.dataset");
        var vit = (VitConfig)config.Model.Resolve().Config;
        if (!vit.ClassToken) throw new ConfigException($"model.class_token: '{config.Model.Name}' has no class token; the linear probe reads [CLS]", "model.class_token");
        _ = Grid(config, vit.Depth, 1);
    }

    /// <summary>Runs the probe into <paramref name="outDir"/> and returns final.json's object (see <see cref="ProbeRun.Run"/>).</summary>
    public static JsonObject Run(RunConfig config, string outDir, Action<string> log, Action<ProbeProgress>? progress)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(log);
        Check(config);
        var dp = DataParallel.Current;
        if (!(dp?.IsMain ?? true)) (log, progress) = (_ => { }, null);
        var run = dp is null ? ProbeRun.CreateRunDirectory(outDir, config) : dp.MainFirst(() => dp.IsMain ? ProbeRun.CreateRunDirectory(outDir, config) : null);
        if (config.Threads > 0) Torch.Torch.NumThreads = config.Threads;
        var clock = Stopwatch.StartNew();
        using var scope = Scope.Enter();
        Torch.Torch.ManualSeed((ulong)config.Seed); // a backbone without weights is drawn from the seed
        using var backbone = LoadBackbone(config, dp?.DeviceFor(config.Device));
        var (train, val) = OpenData(config, backbone);
        var world = dp?.WorldSize ?? 1;
        var specs = Grid(config, backbone.Config.Depth, config.Data.BatchSize * world);
        var options = new ProbeOptions
        {
            Steps = checked((int)(config.Optim.Steps ?? 300)),
            BatchSize = config.Data.BatchSize,
            Lr = specs[0].Lr,
            WeightDecay = config.Optim.WeightDecay,
            WarmupSteps = checked((int)(config.Optim.WarmupSteps ?? 0)),
            Seed = checked((int)config.Seed),
            Workers = config.Data.Workers,
            Parallel = dp,
        }.Validate();
        log($"probe cls: {config.Model.Name} on {config.Data.Dataset} ({train.Count} train, {val.Count} val images, {train.NumClasses} classes); "
            + $"{specs.Count} heads: n {Join(specs.Select(s => s.NLastBlocks))} × avgpool {Join(specs.Select(s => s.Avgpool))} × lr {Join(specs.Select(s => s.Lr))}");
        var trainClock = Stopwatch.StartNew();
        var trainSeconds = 0.0;
        void OnStep(ProbeStep s)
        {
            run?.Metrics.Append(new JsonObject { ["step"] = s.Step + 1, ["loss"] = s.Loss, ["lr"] = s.Lr });
            var done = s.Step + 1;
            var p = new ProbeProgress(done, options.Steps, s.Loss, s.Lr, done * options.BatchSize * world / Math.Max(trainClock.Elapsed.TotalSeconds, 1e-9), trainClock.Elapsed);
            if (progress is not null) progress(p);
            else if (p.IsReportStep) log(p.Text());
            if (done == options.Steps)
            {
                trainSeconds = trainClock.Elapsed.TotalSeconds;
                log($"trained in {trainSeconds:F0} s; evaluating {val.Count} images");
            }
        }
        var result = ClassificationProbe.Run(backbone, train, val, specs, options, config.Data.EvalBatchSize ?? config.Data.BatchSize, OnStep,
            config.Optim.MinLr, config.Optim.WarmupLr);
        using var grid = result.Grid;
        var best = result.Heads[result.Best];
        // final.json is flat: the grid goes in parallel arrays, one entry per head in grid order.
        JsonArray Column<T>(Func<ClassificationHeadScore, T> f) => new([.. result.Heads.Select(h => JsonValue.Create(f(h)))]);
        var final = new JsonObject
        {
            ["top1"] = best.Top1, ["top5"] = best.Top5, ["best_head"] = best.Spec.Name,
            ["heads"] = Column(h => h.Spec.Name), ["heads_top1"] = Column(h => h.Top1), ["heads_top5"] = Column(h => h.Top5),
            ["heads_n_last_blocks"] = Column(h => h.Spec.NLastBlocks), ["heads_avgpool"] = Column(h => h.Spec.Avgpool), ["heads_lr"] = Column(h => h.Spec.Lr),
            ["eval_images"] = result.EvalImages,
            ["classes"] = train.NumClasses, ["train_loss"] = result.FinalLoss, ["steps"] = options.Steps, ["seconds"] = clock.Elapsed.TotalSeconds,
            ["train_seconds"] = trainSeconds, ["eval_seconds"] = trainClock.Elapsed.TotalSeconds - trainSeconds,
        };
        if (run is not null)
        {
            SafeTensors.SaveModule(Path.Combine(run.Path, HeadsFile), grid);
            run.Finish(final);
        }
        log($"best head {best.Spec.Name}: top-1 {best.Top1:F2} %, top-5 {best.Top5:F2} %");
        return final;

        static string Join<T>(IEnumerable<T> values) => "[" + string.Join(", ", values.Distinct().Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))) + "]";
    }

    /// <summary>
    /// The ViT of <c>model.*</c> without its classifier (num_classes 0) on <paramref name="device"/>, with
    /// <c>model.weights</c> loaded: every backbone key, the final norm included (the features are taken after it), must
    /// be in the file; a classifier in the file is ignored.
    /// </summary>
    public static VisionTransformer LoadBackbone(RunConfig config, string? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var entry = config.Model.With(["num_classes=0"]).Resolve();
        var vit = new VisionTransformer((VitConfig)entry.Config, Device.Parse(device ?? config.Device));
        if (config.Model.Weights is not { } weights) return vit;
        try
        {
            BackboneWeights.Load(vit, weights, key => key.StartsWith("fc_norm.", StringComparison.Ordinal));
            return vit;
        }
        catch
        {
            vit.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The training split (with <see cref="ClassificationProbe.TrainTransform"/> from <c>aug.scale</c>, <c>aug.ratio</c> and
    /// <c>aug.hflip</c>, whose defaults are DINOv2's; <c>aug.no_aug=true</c>: the eval transform) and the evaluation split of
    /// <c>data.dataset</c> through the classification loaders, at the backbone's input size.
    /// </summary>
    private static (ClassificationData Train, ClassificationData Val) OpenData(RunConfig config, VisionTransformer backbone)
    {
        // The loaders check the model's classifier against the dataset; the probe's backbone has none, so they are
        // given the dataset's own class count.
        var dataConfig = config with { Model = config.Model.With([$"num_classes={DatasetClasses(config)}"]) };
        var val = ClassificationData.Open(dataConfig, ClassificationData.DefaultEvalSplit(config.Data), config.Data.EvalLimit);
        if (val.Eval.Size != backbone.Config.ImgSize && !backbone.Config.DynamicImgSize)
            throw new ConfigException($"data.img_size: the images are {val.Eval.Size} px but '{config.Model.Name}' takes {backbone.Config.ImgSize} px (fixed position embedding)", "data.img_size");
        var train = ClassificationData.Open(dataConfig, config.Data.TrainSplit, config.Data.TrainLimit);
        var a = config.Aug;
        var augmentation = a.NoAug ? null : ClassificationProbe.TrainTransform(train.Eval, (a.Scale[0], a.Scale[1]), (a.Ratio[0], a.Ratio[1]), a.Hflip);
        return (train.WithAugmentation(augmentation), val);
    }

    private static int DatasetClasses(RunConfig config)
    {
        var d = config.Data;
        if (d.Dataset != "imagenet") return FashionMnistSplit.Classes.Length; // fashion-mnist and fashion-objects
        if (d.Root is not { } root) return 0; // the loader names data.root
        var train = Path.Combine(root, "train");
        var split = Directory.Exists(train) ? train : Path.Combine(root, ClassificationData.DefaultEvalSplit(d));
        return Directory.Exists(split) ? Directory.GetDirectories(split).Length : 0; // 0: the loader reports the layout
    }
}
