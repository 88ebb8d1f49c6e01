using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Config;
using Reproduce.Torch.IO;

namespace Reproduce.Training.Runs;

/// <summary>Where a run stands.</summary>
public enum RunStatus
{
    /// <summary>Started and not finished: continue it from its last checkpoint.</summary>
    Resumable,
    /// <summary>Finished: <c>final.json</c> holds its final metrics; a script skips it.</summary>
    Finished,
}

/// <summary>
/// One run's directory, named <c>&lt;name&gt;-&lt;hash12&gt;</c> after its resolved configuration
/// (<see cref="RunConfig.RunId"/>), holding:
/// <list type="bullet">
/// <item><c>config.json</c> — the resolved configuration in canonical form (indented);</item>
/// <item><c>metrics.jsonl</c> — one JSON object per line, appended and flushed (<see cref="MetricsLog"/>);</item>
/// <item><c>final.json</c> — the final metrics as a flat JSON object, written atomically when the run finishes;</item>
/// <item><c>status</c> — <c>resumable</c> or <c>finished</c>, written atomically;</item>
/// <item><c>checkpoints/</c> — see <see cref="CheckpointStore"/>.</item>
/// </list>
/// Every whole-file write is atomic (temporary file + rename), so a crash never leaves a damaged file.
/// </summary>
public sealed class RunDirectory
{
    /// <summary>File name of the resolved configuration.</summary>
    public const string ConfigFile = "config.json";
    /// <summary>File name of the metrics log.</summary>
    public const string MetricsFile = "metrics.jsonl";
    /// <summary>File name of the final metrics.</summary>
    public const string FinalFile = "final.json";
    /// <summary>File name of the status marker.</summary>
    public const string StatusFile = "status";
    /// <summary>Directory name of the checkpoints.</summary>
    public const string CheckpointsDir = "checkpoints";

    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private RunDirectory(string path, RunConfig config)
    {
        Path = path;
        Config = config;
        Hash = config.Hash();
        Metrics = new MetricsLog(System.IO.Path.Combine(path, MetricsFile));
    }

    /// <summary>Full path of the directory.</summary>
    public string Path { get; }
    /// <summary>The resolved configuration.</summary>
    public RunConfig Config { get; }
    /// <summary>SHA-256 of the canonical configuration.</summary>
    public string Hash { get; }
    /// <summary>The directory name (<see cref="RunConfig.RunId"/> when created by <see cref="OpenOrCreate"/>).</summary>
    public string Id => System.IO.Path.GetFileName(Path);
    /// <summary>The metrics log.</summary>
    public MetricsLog Metrics { get; }
    /// <summary>Path of final.json.</summary>
    public string FinalPath => System.IO.Path.Combine(Path, FinalFile);
    /// <summary>Path of the checkpoints directory.</summary>
    public string CheckpointsPath => System.IO.Path.Combine(Path, CheckpointsDir);

    /// <summary>
    /// The run of <paramref name="config"/> under <paramref name="root"/>: created (with config.json and status
    /// <c>resumable</c>) when absent, otherwise opened after checking that its saved configuration resolves to
    /// the same hash. A mismatch throws, naming the differing keys.
    /// </summary>
    public static RunDirectory OpenOrCreate(string root, RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(config);
        return OpenOrCreateAt(System.IO.Path.Combine(root, config.RunId()), config);
    }

    /// <summary>
    /// As <see cref="OpenOrCreate"/>, but the run lives exactly at <paramref name="directory"/> (the CLI's
    /// <c>--out DIR</c>) instead of a hash-named sub-directory; an existing configuration must still match.
    /// </summary>
    public static RunDirectory OpenOrCreateAt(string directory, RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(config);
        var path = System.IO.Path.GetFullPath(directory);
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create the run directory '{path}': {e.Message}", e);
        }
        var run = new RunDirectory(path, config);
        var configPath = System.IO.Path.Combine(path, ConfigFile);
        if (File.Exists(configPath))
        {
            var saved = ReadConfig(configPath);
            if (saved.Hash() != run.Hash)
                throw new InvalidDataException(
                    $"run directory '{path}' holds a configuration (hash {saved.Hash()[..12]}) that differs from the requested one (hash {run.Hash[..12]}) at: " +
                    string.Join(", ", Differences(ConfigJson.ToNode(saved), ConfigJson.ToNode(config), "")));
        }
        else
        {
            AtomicFile.WriteAllText(configPath, ConfigJson.Indented(config));
        }
        if (!File.Exists(System.IO.Path.Combine(path, StatusFile))) run.WriteStatus(RunStatus.Resumable);
        return run;
    }

    /// <summary>
    /// Whether <paramref name="directory"/> holds a finished run (status <c>finished</c> and final.json), read without
    /// creating or changing anything; false for a missing directory.
    /// </summary>
    public static bool IsFinishedAt(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var path = System.IO.Path.GetFullPath(directory);
        var statusPath = System.IO.Path.Combine(path, StatusFile);
        return File.Exists(statusPath) && File.ReadAllText(statusPath).Trim() == "finished" && File.Exists(System.IO.Path.Combine(path, FinalFile));
    }

    /// <summary>Opens an existing run directory (its config.json must parse).</summary>
    public static RunDirectory Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = System.IO.Path.GetFullPath(path);
        var configPath = System.IO.Path.Combine(full, ConfigFile);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"'{full}' is not a run directory: it has no {ConfigFile}", configPath);
        return new RunDirectory(full, ReadConfig(configPath));
    }

    private static RunConfig ReadConfig(string configPath)
    {
        string text;
        try
        {
            text = File.ReadAllText(configPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot read '{configPath}': {e.Message}", e);
        }
        return RunConfig.FromJson(text, $"config file '{configPath}'");
    }

    /// <summary>
    /// <see cref="RunStatus.Finished"/> when the status file says so and final.json exists, else
    /// <see cref="RunStatus.Resumable"/>.
    /// </summary>
    public RunStatus Status
    {
        get
        {
            var statusPath = System.IO.Path.Combine(Path, StatusFile);
            var text = File.Exists(statusPath) ? File.ReadAllText(statusPath).Trim() : "";
            return text == "finished" && File.Exists(FinalPath) ? RunStatus.Finished : RunStatus.Resumable;
        }
    }

    /// <summary>True when the run has finished.</summary>
    public bool IsFinished => Status == RunStatus.Finished;

    /// <summary>
    /// Marks the run finished: writes <paramref name="finalMetrics"/> to final.json (atomically), then the status.
    /// The object must be flat: values are numbers, strings, bools, null, or arrays of those (e.g.
    /// <c>per_class_iou</c>); NaN and ±∞ are written as null.
    /// </summary>
    public void Finish(JsonObject finalMetrics)
    {
        ArgumentNullException.ThrowIfNull(finalMetrics);
        foreach (var (key, value) in finalMetrics)
            if (value is JsonObject || value is JsonArray a && a.Any(e => e is JsonObject or JsonArray))
                throw new ArgumentException($"final metrics must be a flat JSON object, but '{key}' holds {(value is JsonObject ? "an object" : "nested arrays or objects")}");
        var text = MetricsLog.Sanitize(finalMetrics)!.ToJsonString(Pretty) + "\n";
        AtomicFile.WriteAllText(FinalPath, text);
        WriteStatus(RunStatus.Finished);
    }

    /// <summary>The final metrics, or null when the run has not finished.</summary>
    public JsonObject? ReadFinal()
    {
        if (!IsFinished) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(FinalPath)) as JsonObject
                   ?? throw new InvalidDataException($"'{FinalPath}' does not hold a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{FinalPath}' is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>The checkpoint store of this run, ranking by the configuration's checkpoint metric.</summary>
    public CheckpointStore OpenCheckpoints() =>
        new(CheckpointsPath, Config.Checkpoint.KeepTopK, Config.Checkpoint.Metric, Config.Checkpoint.Mode);

    /// <summary>
    /// The last checkpoint in <paramref name="store"/> for a trainer to continue from, or null for a fresh start (then
    /// the main rank drops the metrics lines of an attempt that died before its first checkpoint). Checkpoints without
    /// <paramref name="resume"/> are an error: the directory holds an unfinished run that would be overwritten.
    /// </summary>
    public Checkpoint? CheckpointToResume(CheckpointStore store, bool main, bool resume)
    {
        ArgumentNullException.ThrowIfNull(store);
        var ckpt = store.LoadLast();
        if (ckpt is null)
        {
            if (main) Metrics.TruncateAfterStep(0);
            return null;
        }
        if (resume) return ckpt;
        ckpt.Dispose();
        throw new InvalidOperationException($"run directory '{Path}' already holds checkpoints of an unfinished run; pass --resume to continue it (or choose another --out)");
    }

    private void WriteStatus(RunStatus status) =>
        AtomicFile.WriteAllText(System.IO.Path.Combine(Path, StatusFile), status == RunStatus.Finished ? "finished\n" : "resumable\n");

    /// <summary>Dotted keys whose values differ between two canonical config trees.</summary>
    internal static IEnumerable<string> Differences(JsonNode? a, JsonNode? b, string prefix)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var key in oa.Select(kv => kv.Key).Union(ob.Select(kv => kv.Key)).Order(StringComparer.Ordinal))
                foreach (var d in Differences(oa[key], ob[key], prefix.Length == 0 ? key : prefix + "." + key))
                    yield return d;
        }
        else if ((a?.ToJsonString() ?? "null") != (b?.ToJsonString() ?? "null"))
        {
            yield return $"{prefix} ({a?.ToJsonString() ?? "null"} vs {b?.ToJsonString() ?? "null"})";
        }
    }
}
