using System.Globalization;
using System.Text.Json;
using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;
using Reproduce.Training.Config;
using Reproduce.Training.Inference;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Bench;

/// <summary>What one benchmark step is.</summary>
public enum BenchMode
{
    /// <summary>Forward, cross-entropy, backward and an AdamW update, in train mode.</summary>
    Train,
    /// <summary>Forward only, without autograd, in eval mode.</summary>
    Infer,
}

/// <summary>The settings of <c>reproduce bench</c>.</summary>
public sealed record BenchOptions
{
    /// <summary>Registered model name.</summary>
    public required string Model { get; init; }
    /// <summary>Model keys <c>key=value</c> of the base model (one assignment each, as <c>reproduce models --set</c>; <c>model.</c> optional).</summary>
    public IReadOnlyList<string> Sets { get; init; } = [];
    /// <summary>Variants to compare against the base: each a comma-separated list of further model keys (<c>sta={},anf.kernel_size=5</c>).</summary>
    public IReadOnlyList<string> Variants { get; init; } = [];
    /// <summary>Images per step.</summary>
    public int Batch { get; init; } = 32;
    /// <summary>Timed steps per model and round.</summary>
    public int Steps { get; init; } = 20;
    /// <summary>Untimed steps per model before timing.</summary>
    public int Warmup { get; init; } = 3;
    /// <summary>Rounds of step-by-step alternation.</summary>
    public int Rounds { get; init; } = 3;
    /// <summary>CPU intra-op threads; 0 keeps the process's setting.</summary>
    public int Threads { get; init; }
    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Seed of every model's initialisation and of the synthetic batch.</summary>
    public long Seed { get; init; }
    /// <summary>Train or infer steps.</summary>
    public BenchMode Mode { get; init; } = BenchMode.Train;
}

/// <summary>The measurement of one benchmarked model.</summary>
/// <param name="Sets">Its overrides on the registered model, comma-separated (the base's <c>--set</c>s; a variant's own).</param>
/// <param name="StepMs">Median step time in milliseconds.</param>
/// <param name="ImagesPerSecond">Batch / median step time.</param>
/// <param name="Params">Trainable parameters of the built model.</param>
/// <param name="StepTimeRatio">For a variant: its median step time / the base's; null for the base.</param>
/// <param name="TimedSteps">Number of timed steps the median is over.</param>
public sealed record BenchModelResult(string Sets, double StepMs, double ImagesPerSecond, long Params, double? StepTimeRatio, int TimedSteps);

/// <summary>The result of <c>reproduce bench</c>: the base model and every variant.</summary>
/// <param name="Model">Registered model name.</param>
/// <param name="Mode">train or infer.</param>
/// <param name="Batch">Images per step.</param>
/// <param name="Threads">CPU intra-op threads the steps ran with.</param>
/// <param name="Device">The device.</param>
/// <param name="Base">The base model (registry entry with the <c>--set</c> overrides).</param>
/// <param name="Variants">The variants, in the order given.</param>
public sealed record BenchResult(string Model, string Mode, int Batch, int Threads, string Device, BenchModelResult Base, IReadOnlyList<BenchModelResult> Variants)
{
    /// <summary>
    /// One-line JSON: <c>{"model", "mode", "batch", "threads", "device", "base": {"sets", "step_ms", "img_s", "params",
    /// "timed_steps"}, "variants": [{"sets", "step_ms", "img_s", "params", "step_time_ratio", "timed_steps"}]}</c>.
    /// </summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("model", Model);
            w.WriteString("mode", Mode);
            w.WriteNumber("batch", Batch);
            w.WriteNumber("threads", Threads);
            w.WriteString("device", Device);
            w.WritePropertyName("base");
            Write(w, Base);
            w.WriteStartArray("variants");
            foreach (var v in Variants) Write(w, v);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Write(Utf8JsonWriter w, BenchModelResult m)
    {
        w.WriteStartObject();
        w.WriteString("sets", m.Sets);
        w.WriteNumber("step_ms", Math.Round(m.StepMs, 4));
        w.WriteNumber("img_s", Math.Round(m.ImagesPerSecond, 3));
        w.WriteNumber("params", m.Params);
        if (m.StepTimeRatio is { } r) w.WriteNumber("step_time_ratio", Math.Round(r, 4));
        w.WriteNumber("timed_steps", m.TimedSteps);
        w.WriteEndObject();
    }
}

/// <summary>
/// <c>reproduce bench</c>: the step time of a registered model and of variants of it (model keys such as
/// <c>sta={},anf={}</c>, the run config's <c>model.*</c> keys), measured side by side with <see cref="StepTimer"/> on one fixed synthetic batch (seeded
/// normal input at the model's resolution and channels, uniform random labels). A train step is the trainer's: in one
/// <see cref="Scope"/>, forward, cross-entropy, backward, then <see cref="AdamW"/> (weight decay 0.05 with timm's
/// exclusions) and zero-grad. An infer step is a no-grad forward in eval mode. Every model is built from the same seed.
/// Bad input throws <see cref="ArgumentException"/> with a message for the user.
/// </summary>
public static class ModelBench
{
    /// <summary>Parses <c>train</c> or <c>infer</c>.</summary>
    public static BenchMode ParseMode(string text) => text.Trim().ToLowerInvariant() switch
    {
        "train" => BenchMode.Train,
        "infer" => BenchMode.Infer,
        _ => throw new ArgumentException($"bench: --mode must be train or infer, not '{text}'"),
    };

    /// <summary>
    /// Splits a variant <c>key=value,key=value</c> into assignments at the commas outside JSON brackets, so a value
    /// may be a JSON list or object (<c>anf.after_blocks=[1,2],sta={}</c>); each is then parsed by the config binder.
    /// </summary>
    public static IReadOnlyList<string> ParseVariant(string variant)
    {
        ArgumentNullException.ThrowIfNull(variant);
        var parts = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i <= variant.Length; i++)
        {
            if (i == variant.Length || (variant[i] == ',' && depth == 0))
            {
                if (variant[start..i].Trim().Length > 0) parts.Add(variant[start..i].Trim());
                start = i + 1;
            }
            else if (variant[i] is '[' or '{') depth++;
            else if (variant[i] is ']' or '}') depth--;
        }
        if (parts.Count == 0)
            throw new ArgumentException($"bench: --variant '{variant}' is empty; give key=value[,key=value...]");
        return parts;
    }

    /// <summary>The base model and its variants, resolved by the config binder; a bad key is an <see cref="ArgumentException"/> (bench's refusal).</summary>
    private static List<ModelEntry> ResolveModels(BenchOptions options)
    {
        try
        {
            var baseModel = new ModelSection { Name = options.Model }.With(options.Sets);
            var entries = new List<ModelEntry> { baseModel.Resolve() };
            entries.AddRange(options.Variants.Select(v => baseModel.With(ParseVariant(v)).Resolve()));
            return entries;
        }
        catch (ConfigException e)
        {
            throw new ArgumentException($"bench: {e.Message}", e);
        }
    }

    /// <summary>Checks the options, builds every model and times them (see <see cref="StepTimer.Run"/>).</summary>
    /// <param name="options">What to measure.</param>
    /// <param name="onMessage">Progress lines (what is built, when timing starts); may be null.</param>
    public static BenchResult Run(BenchOptions options, Action<string>? onMessage = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Batch <= 0) throw new ArgumentException($"bench: --batch must be positive, not {options.Batch}");
        if (options.Steps <= 0) throw new ArgumentException($"bench: --steps must be positive, not {options.Steps}");
        if (options.Rounds <= 0) throw new ArgumentException($"bench: --rounds must be positive, not {options.Rounds}");
        if (options.Warmup < 0) throw new ArgumentException($"bench: --warmup must be 0 or more, not {options.Warmup}");
        if (options.Threads < 0) throw new ArgumentException($"bench: --threads must be positive, not {options.Threads}");
        if (!ModelRegistry.Contains(options.Model))
            throw new ArgumentException($"bench: unknown model '{options.Model}'; `reproduce models` lists the registered names");
        var device = ParseDevice(options.Device);

        var entries = ResolveModels(options);
        foreach (var e in entries) CheckRunnable(e, options.Mode);

        if (options.Threads > 0) Torch.Torch.NumThreads = options.Threads;
        var subjects = new List<Subject>();
        try
        {
            foreach (var e in entries) subjects.Add(new Subject(e, options, device));
            onMessage?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"bench: {options.Model}, {entries.Count} model(s), {options.Mode.ToString().ToLowerInvariant()} steps of batch {options.Batch} on {device}, " +
                $"{Torch.Torch.NumThreads} thread(s): {options.Warmup} warmup + {options.Rounds}×{options.Steps} timed steps each, alternating"));
            var timings = StepTimer.Run(subjects.Select(s => (Action)s.Step).ToList(), options.Warmup, options.Rounds, options.Steps);
            var baseMs = timings[0].MedianMs;
            BenchModelResult Result(int i, string sets) => new(sets, timings[i].MedianMs, options.Batch / (timings[i].MedianMs / 1000.0),
                subjects[i].Params, i == 0 ? null : timings[i].MedianMs / baseMs, timings[i].Milliseconds.Count);
            return new BenchResult(options.Model, options.Mode.ToString().ToLowerInvariant(), options.Batch, Torch.Torch.NumThreads, device.ToString(),
                Result(0, string.Join(",", options.Sets)),
                options.Variants.Select((v, i) => Result(i + 1, v)).ToList());
        }
        finally
        {
            foreach (var s in subjects) s.Dispose();
        }
    }

    private static Device ParseDevice(string text)
    {
        Device device;
        try
        {
            device = Device.Parse(text);
        }
        catch (ArgumentException)
        {
            throw new ArgumentException($"bench: unknown device '{text}' (expected cpu, cuda or cuda:N)");
        }
        if (!device.IsCuda) return device;
        if (!Cuda.IsAvailable)
            throw new ArgumentException($"bench: --device {text}, but CUDA is not available here (native layer built with CUDA: {(Torch.Torch.BuiltWithCuda ? "yes" : "no")}); use --device cpu");
        if (device.Index >= Cuda.DeviceCount)
            throw new ArgumentException($"bench: --device {text}, but there are {Cuda.DeviceCount} CUDA device(s)");
        return device;
    }

    private static void CheckRunnable(ModelEntry e, BenchMode mode)
    {
        if (mode == BenchMode.Train && ClassCount(e) <= 0)
            throw new ArgumentException($"bench: model '{e.Name}' has no classifier (num_classes=0), so a train step has no loss; add --set num_classes=N or use --mode infer");
    }

    private static int ClassCount(ModelEntry e) =>
        ModelEvalSettings.NumClasses(e) ?? throw new ArgumentException($"bench: model '{e.Name}' ({e.Config.GetType().Name}) is not supported");

    /// <summary>One model with its optimizer and its fixed synthetic batch.</summary>
    private sealed class Subject : IDisposable
    {
        private readonly Module<Tensor, Tensor> _model;
        private readonly AdamW? _optimizer;
        private readonly Tensor _input;
        private readonly Tensor? _labels;
        private readonly Device _device;

        public Subject(ModelEntry entry, BenchOptions options, Device device)
        {
            _device = device;
            Torch.Torch.ManualSeed((ulong)options.Seed);
            var module = entry.Create(device);
            if (module is not Module<Tensor, Tensor> model)
            {
                module.Dispose();
                throw new ArgumentException($"bench: model '{entry.Name}' does not map an image tensor to an output");
            }
            _model = model;
            Params = model.Parameters().Where(p => p.RequiresGrad).Sum(p => p.Numel);
            using var gen = new Generator((ulong)options.Seed);
            var size = entry.Config.ImgSize;
            using (Scope.Enter())
            {
                _input = Torch.Torch.Randn([options.Batch, ModelEvalSettings.InChans(entry), size, size], gen).To(device).DetachFromScope();
                if (options.Mode == BenchMode.Train)
                    _labels = Torch.Torch.Randint(0, ClassCount(entry), [options.Batch], gen).To(device).DetachFromScope();
            }
            if (options.Mode == BenchMode.Train)
            {
                _optimizer = new AdamW(ParamGroups.WeightDecayExclusion(model, 0.05), lr: 1e-4, weightDecay: 0.05);
                model.Train();
            }
            else
            {
                model.Eval();
            }
        }

        /// <summary>Trainable parameters.</summary>
        public long Params { get; }

        public void Step()
        {
            using (var scope = Scope.Enter())
            {
                if (_optimizer is null)
                {
                    using var noGrad = Torch.Torch.NoGrad();
                    _model.Forward(_input);
                }
                else
                {
                    F.CrossEntropy(_model.Forward(_input), _labels!).Backward();
                    _optimizer.Step();
                    _optimizer.ZeroGrad();
                }
            }
            if (_device.IsCuda) Cuda.Synchronize(_device.Index);
        }

        public void Dispose()
        {
            _optimizer?.Dispose();
            _labels?.Dispose();
            _input.Dispose();
            _model.Dispose();
        }
    }
}
