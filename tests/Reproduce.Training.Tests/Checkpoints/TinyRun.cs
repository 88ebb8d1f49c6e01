using System.Text.Json.Nodes;
using Reproduce.Torch.Optim;
using Reproduce.Training.Checkpoints;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Checkpoints;

/// <summary>
/// A tiny but complete training loop for checkpoint tests: a ViT (D 16, depth 2, drop path 0.1, so the default
/// generator matters) on a fixed synthetic dataset, AdamW with timm's weight-decay groups, warmup + cosine,
/// gradient clipping, EMA, label smoothing, an input-noise augmentation drawn from a named generator, and a data
/// order that is a fresh permutation per epoch (seeded by the epoch) walked by a position — the sampler state
/// saved as longs.
/// </summary>
internal sealed class TinyRun : IDisposable
{
    public const int Samples = 40, Batch = 8, Classes = 4;

    private readonly Tensor _images, _labels;

    public VisionTransformer Model { get; }
    public AdamW Optimizer { get; }
    public ModelEma Ema { get; }
    public Generator Augment { get; }
    public CosineSchedule Schedule { get; } = new(cycleSteps: 12, minLr: 1e-5, warmupSteps: 3, warmupStartLr: 1e-6);
    public long Step { get; private set; }
    public long Epoch { get; private set; }
    public long Position { get; private set; }
    public List<double> Losses { get; } = [];

    public static VitConfig ModelConfig(int classes = Classes) => new()
    {
        ImgSize = 8, PatchSize = 4, InChans = 3, NumClasses = classes, EmbedDim = 16, Depth = 2, NumHeads = 2, DropPathRate = 0.1,
    };

    /// <summary>Builds everything; <paramref name="initSeed"/> seeds the model initialisation, <paramref name="augmentSeed"/> the augmentation generator.</summary>
    public TinyRun(ulong initSeed, ulong augmentSeed, int classes = Classes)
    {
        using (var data = new Generator(12345))
        {
            _images = Torch.Torch.Randn([Samples, 3, 8, 8], data).DetachFromScope();
            _labels = Torch.Torch.Randint(0, Classes, [Samples], data).DetachFromScope();
        }
        Torch.Torch.ManualSeed(initSeed);
        Model = new VisionTransformer(ModelConfig(classes));
        Optimizer = new AdamW(ParamGroups.WeightDecayExclusion(Model, 0.05), lr: 1e-2);
        Ema = new ModelEma(Model, decay: 0.9);
        Augment = new Generator(augmentSeed);
    }

    public TrainingComponents Components => new()
    {
        Model = Model, Ema = Ema, Optimizer = Optimizer,
        Generators = new Dictionary<string, Generator> { ["augment"] = Augment },
    };

    public TrainingProgress Progress(double? metric = null) => new()
    {
        Step = Step, Epoch = Epoch, SchedulerStep = Step, Metric = metric,
        Longs = new Dictionary<string, long[]> { ["sampler"] = [Epoch, Position] },
        Bytes = new Dictionary<string, byte[]> { ["note"] = [1, 2, 3] },
        Extra = new JsonObject { ["losses"] = new JsonArray(Losses.Select(l => (JsonNode)l).ToArray()) },
    };

    /// <summary>Continues from a restored progress (the caller's side of resuming: counters and sampler).</summary>
    public void Resume(TrainingProgress p)
    {
        Step = p.Step;
        (Epoch, Position) = (p.Longs["sampler"][0], p.Longs["sampler"][1]);
        Losses.Clear();
        Losses.AddRange(p.Extra!["losses"]!.AsArray().Select(n => n!.GetValue<double>()));
    }

    public void Train(int steps)
    {
        for (var i = 0; i < steps; i++) TrainStep();
    }

    private void TrainStep()
    {
        using var scope = Scope.Enter();
        using var order = new Generator(1000 + (ulong)Epoch);
        var perm = Torch.Torch.Randperm(Samples, order);
        var idx = perm.Narrow(0, Position * Batch, Batch);
        var x = _images.IndexSelect(0, idx).Add(Torch.Torch.Randn([Batch, 3, 8, 8], Augment).Mul(0.1));
        var y = _labels.IndexSelect(0, idx);
        Schedule.Apply(Optimizer, Step);
        var loss = F.CrossEntropy(Model.Forward(x), y, labelSmoothing: 0.1);
        loss.Backward();
        GradClip.ClipGradNorm(Model.Parameters(), 1.0);
        Optimizer.Step();
        Optimizer.ZeroGrad();
        Step++;
        Ema.Update(Model, Step);
        Losses.Add(loss.ToDouble());
        if (++Position == Samples / Batch)
        {
            Position = 0;
            Epoch++;
        }
    }

    /// <summary>Every parameter, EMA entry and optimizer state tensor as raw bytes, keyed, for bitwise comparison.</summary>
    public Dictionary<string, byte[]> Snapshot()
    {
        using var scope = Scope.Enter();
        var d = new Dictionary<string, byte[]>();
        foreach (var (k, v) in Model.StateDict()) d["model." + k] = v.ToBytes();
        foreach (var (k, v) in Ema.StateDict()) d["ema." + k] = v.ToBytes();
        var opt = Optimizer.StateDict();
        foreach (var (k, v) in opt.Tensors) d["optim." + k] = v.ToBytes();
        d["optim.meta"] = System.Text.Encoding.UTF8.GetBytes(opt.MetaJson());
        d["rng.augment"] = Augment.GetState().ToBytes();
        using var defaultGenerator = Generator.Default();
        d["rng.default"] = defaultGenerator.GetState().ToBytes();
        return d;
    }

    public void Dispose()
    {
        Model.Dispose();
        Optimizer.Dispose();
        Ema.Dispose();
        Augment.Dispose();
        _images.Dispose();
        _labels.Dispose();
    }
}
