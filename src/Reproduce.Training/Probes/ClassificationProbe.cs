using Reproduce.Torch;
using Reproduce.Torch.Optim;
using Reproduce.Training.Train;
using Reproduce.Vision.Data.Loading;
using Reproduce.Vision.Data.Transforms;
using Reproduce.Vision.Metrics;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Probes;

/// <summary>One trained head's scores on the evaluation split.</summary>
/// <param name="Spec">The head (n, avgpool, lr).</param>
/// <param name="Top1">Top-1 accuracy, percent.</param>
/// <param name="Top5">Top-5 accuracy, percent (top-C for fewer than 5 classes).</param>
public sealed record ClassificationHeadScore(LinearHeadSpec Spec, double Top1, double Top5);

/// <summary>The outcome of a linear classification probe.</summary>
/// <param name="Heads">Every head's scores, in grid order.</param>
/// <param name="Best">Index of the head with the highest top-1 (the first on ties, as DINOv2's strict &gt;).</param>
/// <param name="FinalLoss">Mean over the last 10 % of the steps of Σ_heads CE.</param>
/// <param name="EvalImages">Images scored (all ranks together).</param>
/// <param name="Grid">The trained heads (owned by the caller).</param>
public sealed record ClassificationProbeResult(IReadOnlyList<ClassificationHeadScore> Heads, int Best, double FinalLoss, long EvalImages,
    LinearClassifierGrid Grid);

/// <summary>
/// DINOv2's linear evaluation (dinov2 <c>eval/linear.py</c>) on a frozen ViT: per batch one forward of the backbone
/// gives the last max(n) blocks' outputs after the final norm (<c>get_intermediate_layers(x, n, return_class_token=True,
/// norm=True)</c>), from which every head of the <see cref="LinearClassifierGrid"/> takes its features; the heads are
/// trained together by SGD (momentum <see cref="Momentum"/>, one parameter group and lr per head) on Σ_heads CE under a
/// cosine schedule from each head's lr to 0 over the steps (PyTorch's <c>CosineAnnealingLR(T_max = steps, eta_min = 0)</c>:
/// lr_t = lr·(1 + cos(π t / T)) / 2 at step t), then scored on the evaluation split; the best head is the one with the
/// highest top-1 there (DINOv2 selects on its validation set, which is also the reported set unless test sets are given).
/// Training images get DINOv2's <c>make_classification_train_transform</c> (<see cref="TrainTransform"/>), evaluation
/// images the dataset's eval transform (for ImageNet-style models resize 256 / centre crop 224).
/// </summary>
public static class ClassificationProbe
{
    /// <summary>SGD momentum of DINOv2's linear evaluation.</summary>
    public const double Momentum = 0.9;

    /// <summary>
    /// DINOv2's linear-evaluation training transform at the evaluation transform's size, mean and std:
    /// RandomResizedCrop (bicubic) with <paramref name="scale"/> and <paramref name="ratio"/> (DINOv2: torchvision's
    /// defaults 0.08–1 and 3/4–4/3), horizontal flip with probability <paramref name="hflip"/> (0.5), Normalize.
    /// </summary>
    public static ClassificationTrainTransform TrainTransform(EvalTransform eval, (double Min, double Max)? scale = null,
        (double Min, double Max)? ratio = null, double hflip = 0.5)
    {
        ArgumentNullException.ThrowIfNull(eval);
        return new ClassificationTrainTransform(eval.Size)
        {
            Crop = new RandomResizedCrop(eval.Size)
            {
                Interpolation = InterpolationMode.Bicubic, Scale = scale ?? (0.08, 1.0), Ratio = ratio ?? (3.0 / 4.0, 4.0 / 3.0),
            },
            HFlip = hflip,
            AutoAugment = null,
            ColorJitter = null,
            Erasing = null,
            Mean = eval.Mean,
            Std = eval.Std,
        };
    }

    /// <summary>Trains the grid <paramref name="specs"/> on <paramref name="train"/> and scores every head on <paramref name="val"/>.</summary>
    /// <param name="backbone">The ViT, frozen here (eval mode, no parameter gradients); it must have a class token.</param>
    /// <param name="train">Training split; its <see cref="ClassificationData.Augmentation"/> is used (set it to <see cref="TrainTransform"/>).</param>
    /// <param name="val">Evaluation split (eval transform).</param>
    /// <param name="specs">The heads.</param>
    /// <param name="options">Steps, batch size, seed, workers, data-parallel job; <see cref="ProbeOptions.WeightDecay"/> is SGD's (coupled) decay.</param>
    /// <param name="evalBatchSize">Images per evaluation batch.</param>
    /// <param name="onStep">Called after every step.</param>
    /// <param name="minLr">η of the cosine (DINOv2: 0), absolute for every head as PyTorch's <c>eta_min</c>.</param>
    /// <param name="warmupLr">Start of the linear warm-up over <see cref="ProbeOptions.WarmupSteps"/> (DINOv2: none).</param>
    public static ClassificationProbeResult Run(VisionTransformer backbone, ClassificationData train, ClassificationData val,
        IReadOnlyList<LinearHeadSpec> specs, ProbeOptions options, int evalBatchSize, Action<ProbeStep>? onStep = null, double minLr = 0,
        double warmupLr = 0)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(val);
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!backbone.Config.ClassToken) throw new ArgumentException("linear probe: the backbone has no class token (model.class_token=false); the probe reads [CLS]");
        var maxN = specs.Max(s => s.NLastBlocks);
        if (maxN > backbone.Config.Depth)
            throw new ArgumentException($"linear probe: n = {maxN} exceeds the backbone's {backbone.Config.Depth} blocks");
        if (train.NumClasses != val.NumClasses) throw new ArgumentException($"linear probe: {train.Name} has {train.NumClasses} classes, {val.Name} {val.NumClasses}");
        if (val.Count == 0) throw new ArgumentException($"linear probe: the evaluation split {val.Name} is empty");
        ProbeInputs.Freeze(backbone);
        var blocks = Enumerable.Range(backbone.Config.Depth - maxN, maxN).ToArray();
        var device = backbone.Parameters().First().Device;
        Torch.Torch.ManualSeed((ulong)options.Seed);
        var grid = new LinearClassifierGrid(specs, backbone.Config.EmbedDim, train.NumClasses, device);
        try
        {
            var loss = Train(backbone, grid, train, blocks, options, device, minLr, warmupLr, onStep);
            var (scores, count) = Evaluate(backbone, grid, val, blocks, evalBatchSize, options.Workers, options.Parallel);
            var best = 0;
            for (var h = 1; h < scores.Count; h++)
                if (scores[h].Top1 > scores[best].Top1) best = h;
            return new ClassificationProbeResult(scores, best, loss, count, grid);
        }
        catch
        {
            grid.Dispose();
            throw;
        }
    }

    /// <summary>The final-normed outputs of <paramref name="blocks"/> without an autograd graph (the frozen backbone).</summary>
    public static IntermediateLayer[] Features(VisionTransformer backbone, Tensor images, IReadOnlyList<int> blocks)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        using var noGrad = Torch.Torch.NoGrad();
        return backbone.GetIntermediateLayers(images, blocks, norm: true);
    }

    private static double Train(VisionTransformer backbone, LinearClassifierGrid grid, ClassificationData train, int[] blocks,
        ProbeOptions options, Device device, double minLr, double warmupLr, Action<ProbeStep>? onStep)
    {
        using var batches = TrainBatches(train, options);
        using var optimizer = Optimizer(grid, options.WeightDecay);
        using var ddp = ProbeParallel.Start(options, grid);
        grid.Train();
        return ProbeLoop.Run("linear probe", options, optimizer, step =>
        {
            var (images, labels, _) = batches.Take(step).Adopt();
            var layers = Features(backbone, images.To(device), blocks);
            return grid.Loss(layers, labels.To(device, ScalarType.Int64));
        }, "divergence; lower probe.lrs", onStep, ddp, Schedule(options.Steps, minLr, options.WarmupSteps, warmupLr));
    }

    /// <summary>
    /// DINOv2's optimizer of the grid: <c>torch.optim.SGD</c> with one parameter group per head at the head's lr, momentum
    /// <see cref="Momentum"/>, (coupled) weight decay <paramref name="weightDecay"/> (DINOv2: 0).
    /// </summary>
    public static Sgd Optimizer(LinearClassifierGrid grid, double weightDecay = 0)
    {
        ArgumentNullException.ThrowIfNull(grid);
        var groups = grid.Specs.Select((s, h) => new ParamGroup(grid.HeadParameters(h), lr: s.Lr, name: s.Name)).ToList();
        return new Sgd(groups, grid.Specs[0].Lr, weightDecay, new SgdOptions(Momentum));
    }

    /// <summary>
    /// <c>CosineAnnealingLR(T_max = steps, eta_min = minLr)</c> stepped once per update: lr_t = η + (lr − η)·(1 + cos(π t / T)) / 2
    /// before update t (t = 0 … T − 1); DINOv2 uses η = 0 and no warm-up. With <paramref name="warmupSteps"/>, timm's linear
    /// warm-up from <paramref name="warmupLr"/> replaces the first steps (<see cref="CosineSchedule"/>).
    /// </summary>
    public static LrSchedule Schedule(int steps, double minLr = 0, int warmupSteps = 0, double warmupLr = 0) =>
        new CosineSchedule(steps, minLr, warmupSteps, warmupLr);

    /// <summary>
    /// The training batches from one random stream seeded by <see cref="ProbeOptions.Seed"/>: a fresh permutation of the
    /// split per epoch, and per sample a generator seeded from the stream for its crop and flip. Under launch every rank
    /// walks the W × B global batch and keeps slots r, r + W, …; one thread builds the batches ahead when
    /// <see cref="ProbeOptions.Workers"/> &gt; 0, and that many decode each batch's images.
    /// </summary>
    private static OrderedPrefetch<PreparedBatch> TrainBatches(ClassificationData train, ProbeOptions options)
    {
        var rng = new Random(options.Seed);
        var order = ProbeInputs.Order(train.Count, rng).GetEnumerator();
        var dp = options.Parallel;
        int world = dp?.WorldSize ?? 1, rank = dp?.Rank ?? 0;
        return new OrderedPrefetch<PreparedBatch>(options.Steps, _ =>
        {
            using var noGrad = Torch.Torch.NoGrad();
            using var s = Scope.Enter();
            var indices = new List<int>(options.BatchSize);
            var rngs = new List<Random>(options.BatchSize);
            for (var b = 0; b < options.BatchSize * world; b++)
            {
                order.MoveNext();
                var seed = rng.Next();
                if (b % world != rank) continue;
                indices.Add(order.Current);
                rngs.Add(new Random(seed));
            }
            var (images, labels, _) = train.TrainBatch(indices.ToArray(), rngs, workers: options.Workers);
            return new PreparedBatch(images, labels);
        }, Math.Min(options.Workers, 1), Math.Max(1, 2 * options.Workers), p => p.Dispose());
    }

    /// <summary>
    /// Top-1 and top-5 of every head of <paramref name="grid"/> on <paramref name="val"/> (batches of
    /// <paramref name="batchSize"/>, <paramref name="workers"/> loader threads); with <paramref name="dp"/> each rank scores
    /// images r, r + W, … and the counts are summed over ranks. Returns the scores in grid order and the images scored.
    /// </summary>
    public static (IReadOnlyList<ClassificationHeadScore> Scores, long Count) Evaluate(VisionTransformer backbone, LinearClassifierGrid grid,
        ClassificationData val, IReadOnlyList<int> blocks, int batchSize, int workers = 0, Train.Distributed.DataParallel? dp = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(val);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var device = backbone.Parameters().First().Device;
        var k5 = Math.Min(5, val.NumClasses);
        var accuracies = grid.Specs.Select(_ => new TopKAccuracy(1, k5)).ToArray();
        var wasTraining = grid.Training;
        grid.Eval();
        backbone.Eval();
        try
        {
            using var noGrad = Torch.Torch.NoGrad();
            var mine = Enumerable.Range(0, val.Count).Where(i => dp is null || i % dp.WorldSize == dp.Rank).ToArray();
            using var batches = EvalBatches.Open(val, mine, batchSize, workers);
            for (var b = 0; b < batches.Count; b++)
            {
                using var scope = Scope.Enter();
                var (x, y, _) = batches.Take(b).Adopt();
                var logits = grid.Forward(Features(backbone, x.To(device), blocks));
                var target = y.To(device);
                for (var h = 0; h < logits.Length; h++) accuracies[h].Update(logits[h], target);
            }
        }
        finally
        {
            grid.Train(wasTraining);
        }
        var counts = accuracies.SelectMany(a => a.Correct).Append(accuracies[0].Count).ToArray();
        if (dp is not null) counts = dp.Sum(counts);
        var total = counts[^1];
        var scores = grid.Specs.Select((s, h) => new ClassificationHeadScore(s, Percent(counts[2 * h], total), Percent(counts[2 * h + 1], total))).ToList();
        return (scores, total);

        static double Percent(long correct, long n) => n == 0 ? double.NaN : 100.0 * correct / n;
    }
}
