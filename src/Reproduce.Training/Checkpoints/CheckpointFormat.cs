using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Reproduce.Torch;
using Reproduce.Training.Config;

namespace Reproduce.Training.Checkpoints;

/// <summary>
/// The on-disk layout of one checkpoint: a directory with <c>state.safetensors</c> (every tensor) and
/// <c>meta.json</c> (everything else). Tensor keys carry a prefix per component:
/// <code>
/// model.&lt;state-dict key&gt;     parameters and persistent buffers (timm keys)
/// ema.&lt;state-dict key&gt;       the EMA shadow
/// optim.state.&lt;i&gt;.&lt;name&gt;     optimizer state tensors (Optimizer.StateDict numbering)
/// rng.&lt;generator&gt;            uint8 generator states (rng.default_cpu = the default CPU generator)
/// longs.&lt;name&gt; / bytes.&lt;name&gt;  the caller's int64 / uint8 arrays
/// </code>
/// <c>meta.json</c>: <c>format</c>, <c>version</c>, <c>step</c>, <c>epoch</c>, <c>scheduler_step</c>,
/// <c>metric</c> ({name, value} or null), <c>config_hash</c> and <c>config</c> (canonical, or null),
/// <c>optimizer</c> (OptimizerState metadata, or null), <c>ema</c> (bool), <c>generators</c>, <c>longs</c>,
/// <c>bytes</c> (name lists), <c>extra</c>, <c>torch_version</c>, and <c>tensors</c>
/// ({file, bytes, sha256} of state.safetensors, checked on load).
/// </summary>
internal static partial class CheckpointFormat
{
    public const string FormatName = "reproduce.checkpoint";
    public const int Version = 1;
    public const string TensorsFile = "state.safetensors";
    public const string MetaFile = "meta.json";
    public const string Model = "model.", Ema = "ema.", Optim = "optim.", Rng = "rng.", Longs = "longs.", Bytes = "bytes.";

    // One handle to the process's default CPU generator, kept for the life of the process.
    private static readonly Lazy<Generator> DefaultCpu = new(() => Generator.Default());

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex NamePattern();

    public static void CheckName(string name, string what)
    {
        if (!NamePattern().IsMatch(name))
            throw new ArgumentException($"checkpoint {what} name '{name}' must be non-empty and use only letters, digits, '_' and '-'");
    }

    /// <summary>Every tensor to save, keyed as above (aliases and new tensors in the current scope).</summary>
    public static Dictionary<string, Tensor> CollectTensors(TrainingComponents c, TrainingProgress p)
    {
        var t = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, v) in c.Model.StateDict()) t[Model + k] = v;
        if (c.Ema is { } ema)
            foreach (var (k, v) in ema.StateDict()) t[Ema + k] = v;
        if (c.Optimizer is { } opt)
            foreach (var (k, v) in opt.StateDict().Tensors) t[Optim + k] = v;
        foreach (var (name, g) in Generators(c)) t[Rng + name] = g.GetState();
        foreach (var (name, v) in p.Longs)
        {
            CheckName(name, "long-array");
            t[Longs + name] = Tensor.From<long>(v, [v.LongLength]);
        }
        foreach (var (name, v) in p.Bytes)
        {
            CheckName(name, "byte-array");
            t[Bytes + name] = Tensor.From<byte>(v, [v.LongLength]);
        }
        return t;
    }

    /// <summary>The generators of <paramref name="c"/> by stored name, the default one first.</summary>
    public static IEnumerable<(string Name, Generator Generator)> Generators(TrainingComponents c)
    {
        if (c.IncludeDefaultGenerator) yield return (TrainingComponents.DefaultGeneratorName, DefaultCpu.Value);
        foreach (var (name, g) in c.Generators.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            CheckName(name, "generator");
            if (name == TrainingComponents.DefaultGeneratorName && c.IncludeDefaultGenerator)
                throw new ArgumentException($"generator name '{name}' is reserved for the default CPU generator");
            yield return (name, g);
        }
    }

    /// <summary>meta.json for a checkpoint (without the <c>tensors</c> entry, added once the file is written).</summary>
    public static JsonObject BuildMeta(TrainingComponents c, TrainingProgress p, RunConfig? config, string metricName)
    {
        return new JsonObject
        {
            ["format"] = FormatName,
            ["version"] = Version,
            ["step"] = p.Step,
            ["epoch"] = p.Epoch,
            ["scheduler_step"] = p.SchedulerStep,
            ["metric"] = p.Metric is { } m
                ? (double.IsFinite(m) ? new JsonObject { ["name"] = metricName, ["value"] = m } : throw new ArgumentException($"checkpoint metric '{metricName}' is {m}; only finite values can rank checkpoints"))
                : null,
            ["config_hash"] = config?.Hash(),
            ["config"] = config is null ? null : ConfigJson.ToNode(config),
            ["optimizer"] = c.Optimizer is { } opt ? opt.StateDict().Meta.DeepClone() : null,
            ["ema"] = c.Ema is not null,
            ["generators"] = new JsonArray(Generators(c).Select(g => (JsonNode)g.Name).ToArray()),
            ["longs"] = new JsonArray(p.Longs.Keys.Order(StringComparer.Ordinal).Select(n => (JsonNode)n).ToArray()),
            ["bytes"] = new JsonArray(p.Bytes.Keys.Order(StringComparer.Ordinal).Select(n => (JsonNode)n).ToArray()),
            ["extra"] = p.Extra?.DeepClone(),
            ["torch_version"] = Torch.Torch.Version,
        };
    }

    /// <summary>Reads a required integer of meta.json, naming the file when it is missing or malformed.</summary>
    public static long GetLong(JsonObject meta, string key, string path)
    {
        try
        {
            return meta[key]?.GetValue<long>() ?? throw new CheckpointException($"checkpoint '{path}': meta.json has no '{key}'");
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new CheckpointException($"checkpoint '{path}': meta.json '{key}' is not an integer", e);
        }
    }

    /// <summary>A short shape for messages: [2,3].</summary>
    public static string Shape(IEnumerable<long> shape) => "[" + string.Join(",", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
}
