using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;

namespace Reproduce.Training.Checkpoints;

/// <summary>
/// A checkpoint read from disk (see <see cref="CheckpointFormat"/> for the layout): its tensors (owned by this
/// object, freed by <see cref="Dispose"/>) and metadata. <see cref="Restore"/> validates the whole state
/// against the given components first (<see cref="Validate"/>) and only then copies it in, so an incompatible
/// checkpoint leaves the model, EMA, optimizer and generators untouched.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    private Checkpoint(string path, JsonObject meta, Dictionary<string, Tensor> tensors)
    {
        Path = path;
        Meta = meta;
        _tensors = tensors;
        Step = CheckpointFormat.GetLong(meta, "step", path);
        Epoch = CheckpointFormat.GetLong(meta, "epoch", path);
        SchedulerStep = CheckpointFormat.GetLong(meta, "scheduler_step", path);
    }

    /// <summary>The checkpoint's directory.</summary>
    public string Path { get; }
    /// <summary>The parsed meta.json.</summary>
    public JsonObject Meta { get; }
    /// <summary>Every tensor by its prefixed key (owned by this object; do not dispose).</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;
    /// <summary>Saved step.</summary>
    public long Step { get; }
    /// <summary>Saved epoch.</summary>
    public long Epoch { get; }
    /// <summary>Saved schedule step.</summary>
    public long SchedulerStep { get; }
    /// <summary>The ranking metric's value, or null.</summary>
    public double? Metric => Meta["metric"] is JsonObject m ? m["value"]?.GetValue<double>() : null;
    /// <summary>SHA-256 of the run configuration saved with it, or null.</summary>
    public string? ConfigHash => (string?)Meta["config_hash"];
    /// <summary>True when an EMA shadow was saved.</summary>
    public bool HasEma => Meta["ema"]?.GetValue<bool>() == true;
    /// <summary>The optimizer metadata (OptimizerState layout), or null.</summary>
    public JsonObject? OptimizerMeta => Meta["optimizer"] as JsonObject;
    /// <summary>Names of the saved generators.</summary>
    public IEnumerable<string> GeneratorNames => Section(CheckpointFormat.Rng).Keys;

    /// <summary>The tensors under one prefix, with the prefix removed.</summary>
    public IReadOnlyDictionary<string, Tensor> Section(string prefix) =>
        _tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value, StringComparer.Ordinal);

    /// <summary>The model's state dict (for loading into another module, e.g. to evaluate).</summary>
    public IReadOnlyDictionary<string, Tensor> ModelState => Section(CheckpointFormat.Model);

    /// <summary>The EMA's state dict (empty when none was saved).</summary>
    public IReadOnlyDictionary<string, Tensor> EmaState => Section(CheckpointFormat.Ema);

    /// <summary>
    /// Reads <c>state.safetensors</c> and <c>meta.json</c> from <paramref name="directory"/>, checking the format
    /// version and the tensor file's size and SHA-256 recorded in meta.json.
    /// </summary>
    public static Checkpoint Read(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var dir = System.IO.Path.GetFullPath(directory);
        var metaPath = System.IO.Path.Combine(dir, CheckpointFormat.MetaFile);
        var tensorsPath = System.IO.Path.Combine(dir, CheckpointFormat.TensorsFile);
        if (!File.Exists(metaPath) || !File.Exists(tensorsPath))
            throw new CheckpointException($"checkpoint '{dir}' is incomplete: it needs {CheckpointFormat.MetaFile} and {CheckpointFormat.TensorsFile}");
        JsonObject meta;
        try
        {
            meta = JsonNode.Parse(File.ReadAllText(metaPath)) as JsonObject ?? throw new CheckpointException($"checkpoint '{dir}': meta.json is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"checkpoint '{dir}': meta.json is not valid JSON: {e.Message}", e);
        }
        if ((string?)meta["format"] != CheckpointFormat.FormatName || meta["version"]?.GetValue<int>() != CheckpointFormat.Version)
            throw new CheckpointException($"checkpoint '{dir}': meta.json is not a {CheckpointFormat.FormatName} version {CheckpointFormat.Version} file");
        var info = meta["tensors"] as JsonObject ?? throw new CheckpointException($"checkpoint '{dir}': meta.json does not describe its tensor file");
        var length = new FileInfo(tensorsPath).Length;
        if (info["bytes"]?.GetValue<long>() != length)
            throw new CheckpointException($"checkpoint '{dir}': {CheckpointFormat.TensorsFile} has {length} bytes but meta.json records {info["bytes"]?.ToJsonString() ?? "none"}");
        if ((string?)info["sha256"] != Sha256(tensorsPath))
            throw new CheckpointException($"checkpoint '{dir}': {CheckpointFormat.TensorsFile} does not match the SHA-256 recorded in meta.json (the file is corrupt)");

        using var scope = Scope.Enter();
        Dictionary<string, Tensor> tensors;
        try
        {
            tensors = SafeTensors.Load(tensorsPath);
        }
        catch (SafeTensorsException e)
        {
            throw new CheckpointException($"checkpoint '{dir}': {e.Message}", e);
        }
        foreach (var t in tensors.Values) t.DetachFromScope();
        try
        {
            return new Checkpoint(dir, meta, tensors);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>Lower-case hex SHA-256 of a file.</summary>
    internal static string Sha256(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(fs));
    }

    /// <summary>Throws <see cref="CheckpointException"/> unless the checkpoint fits every given component (modifies nothing).</summary>
    public void Validate(TrainingComponents components)
    {
        ArgumentNullException.ThrowIfNull(components);
        CheckpointCompatibility.Check(this, components);
    }

    /// <summary>
    /// Validates, then restores the model, EMA, optimizer (state, hyperparameters and step counts) and generators
    /// given in <paramref name="components"/>, and returns the saved progress (step, epoch, schedule step,
    /// metric, the caller's arrays and extra JSON). Training continued from here reproduces the uninterrupted run
    /// bit for bit on the same device, provided the caller also resumes its data order from the returned state.
    /// </summary>
    public TrainingProgress Restore(TrainingComponents components)
    {
        Validate(components);
        using var scope = Scope.Enter();
        components.Model.LoadStateDict(ModelState);
        components.Ema?.LoadStateDict(EmaState);
        if (components.Optimizer is { } opt)
            opt.LoadStateDict(new OptimizerState(Section(CheckpointFormat.Optim), (JsonObject)OptimizerMeta!.DeepClone()));
        foreach (var (name, g) in CheckpointFormat.Generators(components))
            g.SetState(_tensors[CheckpointFormat.Rng + name]);
        return Progress();
    }

    /// <summary>Copies the model weights (or, with <paramref name="useEma"/>, the EMA weights) into <paramref name="model"/> after checking keys and shapes.</summary>
    public void RestoreModel(Module model, bool useEma = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (useEma && !HasEma) throw new CheckpointException($"checkpoint '{Path}' has no EMA weights");
        var state = Section(useEma ? CheckpointFormat.Ema : CheckpointFormat.Model);
        CheckpointCompatibility.CheckModel(Path, model, state);
        using var scope = Scope.Enter();
        model.LoadStateDict(state);
    }

    /// <summary>The progress saved with the checkpoint.</summary>
    public TrainingProgress Progress() => new()
    {
        Step = Step,
        Epoch = Epoch,
        SchedulerStep = SchedulerStep,
        Metric = Metric,
        Longs = Section(CheckpointFormat.Longs).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<long>()),
        Bytes = Section(CheckpointFormat.Bytes).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<byte>()),
        Extra = Meta["extra"]?.DeepClone() as JsonObject,
    };

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}
