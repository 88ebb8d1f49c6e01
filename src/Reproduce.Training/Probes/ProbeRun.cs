using System.Diagnostics;
using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Training.Checkpoints.Released;
using Reproduce.Training.Config;
using Reproduce.Training.Runs;
using Reproduce.Training.Train;
using Reproduce.Training.Train.Distributed;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Data.FashionScenes;
using Reproduce.Vision.Metrics;
using Reproduce.Vision.Models;
using Reproduce.Vision.Models.Heads;

namespace Reproduce.Training.Probes;

/// <summary>
/// <c>reproduce probe seg|depth</c> (and <c>cls</c>, handed to <see cref="ClassificationProbeRun"/>): a dense probe driven by a <see cref="RunConfig"/>, writing the run files into one
/// directory (<c>config.json</c> resolved, <c>metrics.jsonl</c> per step, <c>final.json</c>). Keys read:
/// <c>model.name</c>, the model record's keys (<c>model.img_size</c>, …), <c>model.weights</c>; <c>data.dataset</c> (fashion-scenes, fashion-scenes-sparse,
/// ade20k, nyu, kitti), <c>data.root</c>, <c>data.batch_size</c>, <c>data.img_size</c> (backbone input side),
/// <c>data.train_split</c>, <c>data.eval_split</c>, <c>data.train_limit</c>, <c>data.eval_limit</c>; <c>optim.lr</c>,
/// <c>optim.weight_decay</c>, <c>optim.steps</c>, <c>optim.warmup_steps</c>, <c>optim.poly_power</c>; <c>probe.layers</c>
/// (block indices, −1 = last), <c>probe.head</c> (linear | fcn, with <c>probe.fcn_channels</c>, <c>probe.fcn_num_convs</c>,
/// <c>probe.fcn_dropout</c>), <c>probe.train_backbone</c>, <c>probe.slide</c>, <c>probe.crop_size</c>, <c>probe.stride</c>,
/// <c>probe.test_scales</c>, <c>probe.test_flip</c>, <c>probe.test_scale</c> (the multi-scale + flip test, <see cref="TestTimeAugmentation"/>),
/// <c>probe.head_weights</c> (a released or earlier run's head, <see cref="HeadFile"/>, evaluated without training),
/// <c>probe.min_depth</c>, <c>probe.max_depth</c>, <c>probe.depth_crop</c> (fashion-scenes only:
/// NYUv2 and KITTI always use the BTS presets, <see cref="DepthEvalOptions.Nyu"/> and <see cref="DepthEvalOptions.Kitti"/>);
/// <c>data.workers</c> (threads building the batches off the training thread); <c>seed</c>, <c>threads</c>, <c>device</c>. Only AdamW with poly decay is implemented for probes; other optimizer/schedule settings are refused.
/// </summary>
public static class ProbeRun
{
    /// <summary>File name of the backbone weights a <c>probe.train_backbone</c> run writes into its directory.</summary>
    public const string BackboneFile = "backbone.safetensors";

    /// <summary>
    /// File name of the trained segmentation head a linear or UperNet probe run writes into its directory, in the layout
    /// of the released heads (<c>decode_head.*</c>; UperNet also <c>backbone.side_layer*</c>, <c>auxiliary_head.*</c>), so
    /// <c>probe.head_weights=RUN/head.safetensors</c> evaluates it again, e.g. with the multi-scale + flip test.
    /// </summary>
    public const string HeadFile = "head.safetensors";

    /// <summary>
    /// The probe defaults laid under the user's overrides: the DINOv2-style lin. recipe (AdamW, poly to 0, wd 1e-4) at
    /// CPU scale. The peak lr is 10× DINOv2's 1e-3 because the run is 200 steps, not 40,000: at 1e-3 the head's bias moves
    /// at most ~0.1 in 200 steps, too little even to learn the class prior (fashion-scenes: 83 % background, log-odds
    /// ≈ 3.9), so a probe scored the head's initialisation, not the backbone (Probes/README.md).
    /// </summary>
    public static IReadOnlyList<string> DefaultOverrides(ProbeTask task) => task == ProbeTask.Classification ? ClassificationProbeRun.DefaultOverrides :
    [
        $"name=probe-{(task == ProbeTask.Depth ? "depth" : "seg")}", $"probe.task={task.ToString().ToLowerInvariant()}",
        "model.name=vit_tiny_scenes64", "data.dataset=fashion-scenes", "data.batch_size=8",
        "optim.optimizer=adamw", "optim.schedule=poly", $"optim.lr={DefaultLr.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        "optim.weight_decay=0.0001", "optim.steps=200", "optim.warmup_steps=0",
    ];

    /// <summary>The default peak learning rate of a probe run (see <see cref="DefaultOverrides"/> for why it is not 1e-3).</summary>
    public const double DefaultLr = 0.01;

    /// <summary>
    /// Resolves the configuration: without <paramref name="configFile"/>, <see cref="DefaultOverrides"/> on the
    /// <see cref="RunConfig"/> defaults; with one, the file as it is (its own defaults); then, with
    /// <paramref name="fromRun"/>, that training run's backbone (<see cref="BackboneOf"/>); then <paramref name="overrides"/>.
    /// </summary>
    public static RunConfig Resolve(ProbeTask task, string? configFile, IEnumerable<string> overrides, string? fromRun = null)
    {
        var config = configFile is null ? ConfigLoader.WithOverrides(new RunConfig(), DefaultOverrides(task)) : RunConfig.Load(configFile);
        if (fromRun is not null) config = config with { Model = BackboneOf(fromRun) };
        return ConfigLoader.WithOverrides(config, overrides.Append($"probe.task={task.ToString().ToLowerInvariant()}"));
    }

    /// <summary>
    /// The backbone of training run <paramref name="runDir"/> (<c>--from RUN</c>): its <c>model</c> section (name and
    /// record keys) from <c>RUN/config.json</c>, with <c>model.weights</c> = <c>RUN/model.safetensors</c>, the weights a
    /// finished run writes. Errors name the missing file.
    /// </summary>
    public static ModelSection BackboneOf(string runDir)
    {
        ArgumentNullException.ThrowIfNull(runDir);
        var dir = Path.GetFullPath(runDir);
        var configFile = Path.Combine(dir, RunDirectory.ConfigFile);
        if (!File.Exists(configFile)) throw new FileNotFoundException($"--from: '{dir}' is not a run directory: it has no {RunDirectory.ConfigFile}", configFile);
        var weights = Path.Combine(dir, Trainer.ModelWeightsFile);
        if (!File.Exists(weights))
            throw new FileNotFoundException($"--from: run '{dir}' has no {Trainer.ModelWeightsFile} (written when a training run finishes); "
                + $"`reproduce weights --from {runDir} --checkpoint last --out FILE` exports a checkpoint's weights for --weights FILE", weights);
        return RunConfig.Load(configFile).Model with { Weights = weights };
    }

    /// <summary>
    /// Runs the probe of <paramref name="config"/> into <paramref name="outDir"/> and returns the final metrics.
    /// <paramref name="log"/> gets the messages (data, phases, where files went); <paramref name="progress"/> gets every
    /// training step — without it, every ⌈steps/20⌉-th step goes to <paramref name="log"/> as a plain line.
    /// </summary>
    public static JsonObject Run(RunConfig config, string outDir, Action<string>? log = null, Action<ProbeProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(outDir);
        log ??= _ => { };
        var task = config.Probe.Task;
        if (task == ProbeTask.Classification) return ClassificationProbeRun.Run(config, outDir, log, progress);
        if (config.Optim.Optimizer != OptimizerKind.AdamW || config.Optim.Schedule != ScheduleKind.Poly)
            throw new ArgumentException($"probe: only optim.optimizer=adamw with optim.schedule=poly is implemented for probes (got {config.Optim.Optimizer}, {config.Optim.Schedule})");
        Check(config);
        var dp = DataParallel.Current; // under `reproduce launch`: sharded batches, averaged head gradients, rank 0 writes
        var main = dp?.IsMain ?? true;
        if (!main) (log, progress) = (_ => { }, null);
        var run = dp is null ? CreateRunDirectory(outDir, config) : dp.MainFirst(() => dp.IsMain ? CreateRunDirectory(outDir, config) : null);
        if (config.Threads > 0) Torch.Torch.NumThreads = config.Threads;
        using var scope = Scope.Enter();
        Torch.Torch.ManualSeed((ulong)config.Seed); // the backbone's init (when no weights are given) follows the seed too
        using var backbone = LoadBackbone(config, dp?.DeviceFor(config.Device));
        var options = new ProbeOptions
        {
            Blocks = config.Probe.Layers,
            Steps = checked((int)(config.Optim.Steps ?? 200)),
            BatchSize = config.Data.BatchSize,
            Lr = config.Optim.Lr,
            WeightDecay = config.Optim.WeightDecay,
            WarmupSteps = checked((int)(config.Optim.WarmupSteps ?? 0)),
            PolyPower = config.Optim.PolyPower,
            InputSize = config.Data.ImgSize,
            Seed = checked((int)config.Seed),
            TrainBackbone = config.Probe.TrainBackbone,
            BackboneLrMult = config.Probe.BackboneLrMult,
            Slide = config.Probe.Slide,
            Stride = config.Probe.Stride,
            Fcn = config.Probe.Head == ProbeHead.Fcn
                ? new FcnOptions(config.Probe.FcnChannels, config.Probe.FcnNumConvs, config.Probe.FcnDropout)
                : null,
            UperNet = config.Probe.Head == ProbeHead.Upernet
                ? new UperNetOptions(config.Probe.UpernetChannels, config.Probe.UpernetNeckChannels, config.Probe.UpernetAuxChannels, config.Probe.UpernetAuxWeight)
                : null,
            Workers = config.Data.Workers,
            Parallel = dp,
            TestAugmentation = config.Probe.TestScales is not null || config.Probe.TestFlip || config.Probe.TestScale is not null
                ? new TestTimeAugmentation(config.Probe.TestScales ?? [1.0], config.Probe.TestFlip,
                    config.Probe.TestScale is [var scaleLong, var scaleShort] ? (scaleLong, scaleShort) : null)
                : null,
        }.Validate();
        options = options with { InputSize = WindowSize(config, backbone, options) };
        if (options.BackboneLrMult != 1.0 && !options.TrainBackbone)
            throw new ArgumentException($"probe: probe.backbone_lr_mult={options.BackboneLrMult} needs probe.train_backbone=true (a frozen backbone has no lr)");
        if (options.TrainBackbone && task != ProbeTask.Segmentation)
            throw new ArgumentException("probe: probe.train_backbone is implemented for segmentation only");
        var clock = Stopwatch.StartNew();
        var trainClock = new Stopwatch(); // started once the data is open, so img/s and ETA measure the steps only
        var trainSeconds = 0.0;
        var evalImages = 0;
        var evalMode = (options.Slide ? $"slide {options.InputSize}/{options.ResolveStride(options.InputSize!.Value)}" : "whole") + AugmentationMode(options.TestAugmentation);
        void OnStep(ProbeStep s)
        {
            run?.Metrics.Append(new JsonObject { ["step"] = s.Step + 1, ["loss"] = s.Loss, ["lr"] = s.Lr });
            var elapsed = trainClock.Elapsed;
            var done = s.Step + 1;
            var p = new ProbeProgress(done, options.Steps, s.Loss, s.Lr, done * options.BatchSize * (dp?.WorldSize ?? 1) / Math.Max(elapsed.TotalSeconds, 1e-9), elapsed);
            if (progress is not null) progress(p);
            else if (p.IsReportStep) log(p.Text());
            if (done == options.Steps)
            {
                trainSeconds = elapsed.TotalSeconds;
                log($"trained in {trainSeconds:F0} s; evaluating {evalImages} images ({evalMode})");
            }
        }
        JsonObject final;
        var dataset = config.Data.Dataset;
        var headFile = config.Probe.HeadWeights;
        if (task == ProbeTask.Segmentation)
        {
            var (train, val, classes) = SegmentationData(config, withTrain: headFile is null);
            log($"probe seg: {config.Model.Name} on {dataset} ({train?.Count ?? 0} train, {val.Count} val images, {classes} classes, {SegmentationHeads.Name(options.Fcn, options.UperNet)} head)");
            evalImages = val.Count;
            trainClock.Start();
            if (headFile is not null) final = ReleasedHeadEval.Segmentation(backbone, headFile, options, val, classes, log);
            else
            {
                var result = SegmentationProbe.Run(backbone, train!, val, classes, options, OnStep);
                using var head = result.Head;
                final = result.Metrics.ToJson();
                final["train_loss"] = result.FinalLoss;
                if (options.Fcn is not null || options.UperNet is not null) final["head"] = SegmentationHeads.Name(options.Fcn, options.UperNet); // linear runs keep their keys
                if (run is not null) SaveHead(Path.Combine(run.Path, HeadFile), head);
                if (options.TrainBackbone && run is not null)
                {
                    var weights = Path.Combine(run.Path, BackboneFile);
                    SafeTensors.SaveModule(weights, backbone);
                    log($"trained backbone written to {weights}");
                }
            }
        }
        else
        {
            var (train, val, evalOptions) = DepthData(config, withTrain: headFile is null);
            log($"probe depth: {config.Model.Name} on {dataset} ({train?.Count ?? 0} train, {val.Count} val images, range ({evalOptions.MinDepth}, {evalOptions.MaxDepth}) m, crop {evalOptions.Crop})");
            evalImages = val.Count;
            trainClock.Start();
            if (headFile is not null) final = ReleasedHeadEval.Depth(backbone, headFile, options, val, evalOptions, log);
            else
            {
                var result = DepthProbe.Run(backbone, train!, val, new DepthProbeSettings(evalOptions), options, OnStep);
                using var head = result.Head;
                final = result.Metrics.ToJson();
                final["train_loss"] = result.FinalLoss;
            }
            final["eval_crop"] = evalOptions.Crop.ToString();
        }
        final["steps"] = headFile is null ? options.Steps : 0; // a released head is evaluated, never trained
        final["seconds"] = clock.Elapsed.TotalSeconds;
        final["train_seconds"] = trainSeconds;
        final["eval_seconds"] = trainClock.Elapsed.TotalSeconds - trainSeconds;
        final["eval_mode"] = evalMode;
        if (options.TestAugmentation is { } tta)
        {
            final["test_scales"] = new JsonArray([.. tta.Ratios.Select(r => (JsonNode)r)]);
            final["test_flip"] = tta.Flip;
            if (tta.Scale is { } scale) final["test_scale"] = new JsonArray(scale.Long, scale.Short);
        }
        run?.Finish(final);
        return final;
    }

    /// <summary>
    /// A trained segmentation head's tensors under the released files' keys (<see cref="HeadWeights.Segmentation"/> reads
    /// them back): the linear head's under <c>decode_head.</c>, UperNet's as they are; null for the FCN head (no released
    /// layout is read for it).
    /// </summary>
    public static Dictionary<string, Tensor>? HeadState(SegmentationDecodeHead head) => head switch
    {
        LinearSegmentationHead l => l.StateDict().ToDictionary(kv => "decode_head." + kv.Key, kv => kv.Value, StringComparer.Ordinal),
        UperNetHead u => new Dictionary<string, Tensor>(u.StateDict(), StringComparer.Ordinal),
        _ => null,
    };

    /// <summary>Writes <see cref="HeadState"/> of <paramref name="head"/> to <paramref name="path"/> (safetensors); nothing for an FCN head.</summary>
    public static void SaveHead(string path, SegmentationDecodeHead head)
    {
        using var scope = Scope.Enter();
        if (HeadState(head) is { } state) SafeTensors.Save(path, state);
    }

    /// <summary>
    /// The test-time augmentation as <c>eval_mode</c> shows it: ", ms [0.5, 1] + flip", with a base scale
    /// ", scale (2048, 512)" before it (alone for mmseg's single-scale test at that scale); empty for none.
    /// </summary>
    public static string AugmentationMode(TestTimeAugmentation? tta)
    {
        if (tta is null) return "";
        var scale = tta.Scale is { } b ? $", scale ({b.Long}, {b.Short})" : "";
        if (tta.Scale is not null && tta.Count == 1 && tta.Ratios[0] == 1.0) return scale;
        return $"{scale}, ms [{string.Join(", ", tta.Ratios.Select(r => r.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]{(tta.Flip ? " + flip" : "")}";
    }

    /// <summary>
    /// What the configuration alone decides, checked before the run directory is created or touched: every key's
    /// value (<see cref="RunConfig.Validate"/>), the model record (a registered ViT with valid options), and that
    /// <c>data.root</c> and <c>model.weights</c>, when given, exist. Each failure names its key.
    /// </summary>
    public static void Check(RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate("");
        if (config.Model.Resolve().Config is not VitConfig)
            throw new ConfigException($"model.name: '{config.Model.Name}' is not a VisionTransformer", "model.name");
        RunInputs.Check(config);
        if (config.Probe.HeadWeights is { } head && !WeightsFile.Exists(head))
            throw new ConfigException($"probe.head_weights: the head weights file '{head}' does not exist", "probe.head_weights");
    }

    /// <summary>Writes the resolved configuration as <c>DIR/config.json</c> (atomically) and opens DIR as a run directory.</summary>
    public static RunDirectory CreateRunDirectory(string outDir, RunConfig config)
    {
        var full = Path.GetFullPath(outDir);
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create the output directory '{full}': {e.Message}", e);
        }
        if (File.Exists(Path.Combine(full, RunDirectory.FinalFile)))
            throw new IOException($"'{full}' already holds a finished run ({RunDirectory.FinalFile}); choose another --out");
        AtomicFile.WriteAllText(Path.Combine(full, RunDirectory.ConfigFile), ConfigJson.Indented(config));
        var metrics = Path.Combine(full, RunDirectory.MetricsFile);
        if (File.Exists(metrics)) File.Delete(metrics); // an unfinished earlier attempt: the probe restarts from step 0
        return RunDirectory.Open(full);
    }

    /// <summary>
    /// The side the backbone is fed: <c>data.img_size</c> (else the backbone's <c>img_size</c>), which with
    /// <c>probe.slide</c> is also the window side; <c>probe.crop_size</c>, when given, must agree with it unless the ViT
    /// takes any size (<c>dynamic_img_size</c>), in which case it sets it.
    /// </summary>
    public static int WindowSize(RunConfig config, VisionTransformer backbone, ProbeOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(options);
        var input = ProbeInputs.InputSize(backbone, options);
        if (config.Probe.CropSize is not { } crop || crop == input) return input;
        if (!config.Probe.Slide) throw new ArgumentException($"probe: probe.crop_size={crop} applies to slide inference only; set probe.slide=true or drop it");
        if (!backbone.Config.DynamicImgSize)
            throw new ArgumentException($"probe: probe.crop_size={crop} differs from the input side {input} of {config.Model.Name}, whose position embedding is fixed; use probe.crop_size={input} or model.dynamic_img_size=true");
        return crop;
    }

    /// <summary>
    /// The registered ViT <c>model.name</c> (with its <c>model.*</c> keys) on <paramref name="device"/> (default <c>device</c>),
    /// with <c>model.weights</c> loaded when given.
    /// </summary>
    public static VisionTransformer LoadBackbone(RunConfig config, string? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var entry = config.Model.Resolve();
        var vit = entry.Config is VitConfig c
            ? new VisionTransformer(c, Device.Parse(device ?? config.Device))
            : throw new ConfigException($"model.name: '{config.Model.Name}' is not a VisionTransformer", "model.name");
        if (config.Model.Weights is { } weights)
        {
            try
            {
                BackboneWeights.Load(vit, weights, DenseUnused);
            }
            catch
            {
                vit.Dispose();
                throw;
            }
        }
        return vit;
    }

    /// <summary>
    /// Keys a dense probe never reads (the final norm and the classifiers: features are taken with norm = False), which a
    /// segmentation checkpoint's backbone lacks (Token Labeling's UperNet backbones have no final norm and no heads).
    /// </summary>
    public static bool DenseUnused(string key) =>
        key.StartsWith("norm.", StringComparison.Ordinal) || key.StartsWith("fc_norm.", StringComparison.Ordinal)
        || key.StartsWith("head.", StringComparison.Ordinal) || key.StartsWith("aux_head.", StringComparison.Ordinal);

    private static string RequireRoot(RunConfig config) =>
        config.Data.Root ?? throw new ArgumentException($"probe: data.dataset={config.Data.Dataset} needs --root DIR (data.root)");

    private static FashionScenesTree Scenes(RunConfig config) =>
        config.Data.Root is { } root ? FashionScenesTree.Open(root) : FashionScenes.Ensure(new FashionScenesConfig());

    // withTrain = false (a released head's evaluation): the training split is neither opened nor required.
    private static (IImageDataset<SegmentationSample>? Train, IImageDataset<SegmentationSample> Val, int Classes) SegmentationData(RunConfig config, bool withTrain)
    {
        var d = config.Data;
        Ade20k? train;
        Ade20k val;
        switch (d.Dataset)
        {
            case "fashion-scenes":
                var tree = Scenes(config);
                (train, val) = (withTrain ? tree.Segmentation(d.TrainSplit) : null, tree.Segmentation(d.EvalSplit ?? "test"));
                break;
            case "ade20k":
                var root = RequireRoot(config);
                (train, val) = (withTrain ? new Ade20k(root, d.TrainSplit) : null, new Ade20k(root, d.EvalSplit ?? "validation"));
                break;
            default:
                throw new ArgumentException($"probe seg: data.dataset must be fashion-scenes or ade20k (got '{d.Dataset}')");
        }
        var classes = config.Probe.NumClasses ?? (train ?? val).Classes.Count;
        return (train is null ? null : new LimitedDataset<SegmentationSample>(train, d.TrainLimit), new LimitedDataset<SegmentationSample>(val, d.EvalLimit), classes);
    }

    private static (IImageDataset<DepthSample>? Train, IImageDataset<DepthSample> Val, DepthEvalOptions Eval) DepthData(RunConfig config, bool withTrain)
    {
        var d = config.Data;
        var p = config.Probe;
        var evalSplit = d.EvalSplit ?? "test";
        (IImageDataset<DepthSample>? train, IImageDataset<DepthSample> val, DepthEvalOptions eval) = d.Dataset switch
        {
            "fashion-scenes" => Pair(Scenes(config).DenseDepth, new DepthEvalOptions(p.MinDepth, p.MaxDepth, p.DepthCrop)),
            "fashion-scenes-sparse" => Pair(Scenes(config).SparseDepth, new DepthEvalOptions(p.MinDepth, p.MaxDepth, p.DepthCrop)),
            "nyu" => Pair(split => NyuDepthV2.OpenAny(RequireRoot(config), split), DepthEvalOptions.Nyu),
            "kitti" => Pair(split => KittiDepth.Open(RequireRoot(config), split), DepthEvalOptions.Kitti),
            _ => throw new ArgumentException($"probe depth: data.dataset must be fashion-scenes, fashion-scenes-sparse, nyu or kitti (got '{d.Dataset}')"),
        };
        return (train is null ? null : new LimitedDataset<DepthSample>(train, d.TrainLimit), new LimitedDataset<DepthSample>(val, d.EvalLimit), eval);

        (IImageDataset<DepthSample>?, IImageDataset<DepthSample>, DepthEvalOptions) Pair(Func<string, IImageDataset<DepthSample>> open, DepthEvalOptions options) =>
            (withTrain ? open(d.TrainSplit) : null, open(evalSplit), options);
    }
}
