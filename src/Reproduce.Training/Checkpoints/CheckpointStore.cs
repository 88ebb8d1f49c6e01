using System.Text.Json;
using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Training.Config;

namespace Reproduce.Training.Checkpoints;

/// <summary>
/// A run's checkpoints: a directory holding one sub-directory per checkpoint (see <see cref="CheckpointFormat"/>)
/// and <c>manifest.json</c> (<see cref="CheckpointManifest"/>), which names the <c>last</c>, the <c>best</c> and
/// the top-k checkpoints by a metric. Everything else is deleted after each save.
/// <para>
/// Writing is crash-safe without relying on any single file: a checkpoint is written into a hidden temporary
/// directory (<c>.tmp-…</c>: tensors, then meta.json with the tensors' size and SHA-256), which is renamed to its
/// final name only when complete; then the manifest is replaced atomically (temporary file + rename); only then
/// are checkpoints that fell out of the retained set deleted. A failure or a kill at any point leaves the previous
/// manifest and every checkpoint it names intact and loadable; leftovers are removed by the next save.
/// </para>
/// </summary>
public sealed class CheckpointStore
{
    /// <summary>The manifest's file name.</summary>
    public const string ManifestFile = "manifest.json";

    /// <summary>Test hook (this thread only): called with a stage name — <c>tensors</c>, <c>meta</c>, <c>renamed</c>, <c>manifest</c> — during <see cref="Save"/>.</summary>
    [ThreadStatic] internal static Action<string>? FaultPoint;

    /// <summary>A store in <paramref name="directory"/> (created on the first save).</summary>
    /// <param name="directory">The checkpoints directory.</param>
    /// <param name="keepTopK">How many of the best checkpoints to keep besides last and best.</param>
    /// <param name="metric">Name of the ranking metric (recorded in the manifest and each checkpoint).</param>
    /// <param name="mode">Whether larger or smaller values rank higher.</param>
    public CheckpointStore(string directory, int keepTopK = 1, string metric = "top1", MetricMode mode = MetricMode.Max)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(metric);
        ArgumentOutOfRangeException.ThrowIfNegative(keepTopK);
        Directory = System.IO.Path.GetFullPath(directory);
        (KeepTopK, Metric, Mode) = (keepTopK, metric, mode);
    }

    /// <summary>Full path of the store.</summary>
    public string Directory { get; }
    /// <summary>Top-k retention.</summary>
    public int KeepTopK { get; }
    /// <summary>Ranking metric name.</summary>
    public string Metric { get; }
    /// <summary>Ranking direction.</summary>
    public MetricMode Mode { get; }

    private string ManifestPath => System.IO.Path.Combine(Directory, ManifestFile);

    /// <summary>The current manifest, or null when nothing has been saved.</summary>
    public CheckpointManifest? ReadManifest()
    {
        if (!File.Exists(ManifestPath)) return null;
        var manifest = CheckpointManifest.Parse(File.ReadAllText(ManifestPath), ManifestPath);
        if (manifest.Metric != Metric || manifest.Mode != Mode)
            throw new CheckpointException($"checkpoint manifest '{ManifestPath}' ranks by {manifest.Metric} ({ConfigSchema.EnumName(manifest.Mode)}) but this store by {Metric} ({ConfigSchema.EnumName(Mode)})");
        return manifest;
    }

    /// <summary>True when at least one checkpoint has been saved.</summary>
    public bool HasCheckpoint => ReadManifest()?.Last is not null;

    /// <summary>
    /// Saves the state of <paramref name="components"/> with <paramref name="progress"/> (and the run's
    /// <paramref name="config"/>, if given) as the newest checkpoint, updates last / best / top-k and deletes what
    /// is no longer retained. Returns the new checkpoint's directory name.
    /// </summary>
    public string Save(TrainingComponents components, TrainingProgress progress, RunConfig? config = null)
    {
        ArgumentNullException.ThrowIfNull(components);
        ArgumentNullException.ThrowIfNull(progress);
        if (progress.Step < 0 || progress.Epoch < 0 || progress.SchedulerStep < 0)
            throw new ArgumentException($"checkpoint progress must not be negative (step {progress.Step}, epoch {progress.Epoch}, scheduler step {progress.SchedulerStep})");
        var before = ReadManifest() ?? new CheckpointManifest { Metric = Metric, Mode = Mode };
        System.IO.Directory.CreateDirectory(Directory);
        var name = $"ckpt-{progress.Step:D10}-{Guid.NewGuid().ToString("N")[..8]}";
        var tmp = System.IO.Path.Combine(Directory, ".tmp-" + name);
        var final = System.IO.Path.Combine(Directory, name);
        var committed = false;
        try
        {
            System.IO.Directory.CreateDirectory(tmp);
            var tensorsPath = System.IO.Path.Combine(tmp, CheckpointFormat.TensorsFile);
            JsonObject meta;
            using (Scope.Enter())
            {
                meta = CheckpointFormat.BuildMeta(components, progress, config, Metric);
                SafeTensors.Save(tensorsPath, CheckpointFormat.CollectTensors(components, progress));
            }
            FaultPoint?.Invoke("tensors");
            meta["tensors"] = new JsonObject
            {
                ["file"] = CheckpointFormat.TensorsFile,
                ["bytes"] = new FileInfo(tensorsPath).Length,
                ["sha256"] = Checkpoint.Sha256(tensorsPath),
            };
            AtomicFile.WriteAllText(System.IO.Path.Combine(tmp, CheckpointFormat.MetaFile), meta.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            FaultPoint?.Invoke("meta");
            System.IO.Directory.Move(tmp, final);
            FaultPoint?.Invoke("renamed");
            var after = before.Add(new CheckpointEntry(name, progress.Step, progress.Epoch, progress.Metric), KeepTopK);
            FaultPoint?.Invoke("manifest");
            AtomicFile.WriteAllText(ManifestPath, after.ToJson());
            committed = true;
            Prune(after);
            return name;
        }
        catch (Exception e) when (!committed)
        {
            TryDeleteDirectory(tmp);
            TryDeleteDirectory(final);
            if (e is IOException or UnauthorizedAccessException)
                throw new CheckpointException($"cannot save checkpoint '{final}': {e.Message} (the previous checkpoints are intact)", e);
            throw;
        }
    }

    /// <summary>The most recent checkpoint, or null when there is none.</summary>
    public Checkpoint? LoadLast() => ReadManifest()?.Last is { } n ? Load(n) : null;

    /// <summary>The best checkpoint by the metric, or null when none has a metric.</summary>
    public Checkpoint? LoadBest() => ReadManifest()?.Best is { } n ? Load(n) : null;

    /// <summary>A retained checkpoint by directory name.</summary>
    public Checkpoint Load(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var manifest = ReadManifest();
        if (manifest?.Find(name) is null)
            throw new CheckpointException($"checkpoint store '{Directory}' has no checkpoint '{name}' (retained: {string.Join(", ", manifest?.Entries.Select(e => e.Name) ?? [])})");
        return Checkpoint.Read(System.IO.Path.Combine(Directory, name));
    }

    /// <summary>Deletes every directory and temporary file the current manifest does not name (leftovers of a crash).</summary>
    public void CleanUp()
    {
        if (ReadManifest() is { } m) Prune(m);
    }

    private void Prune(CheckpointManifest manifest)
    {
        var keep = new HashSet<string>(manifest.Entries.Select(e => e.Name), StringComparer.Ordinal);
        foreach (var dir in System.IO.Directory.EnumerateDirectories(Directory))
        {
            var n = System.IO.Path.GetFileName(dir);
            if ((n.StartsWith("ckpt-", StringComparison.Ordinal) || n.StartsWith(".tmp-ckpt-", StringComparison.Ordinal)) && !keep.Contains(n))
                TryDeleteDirectory(dir);
        }
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory))
            if (AtomicFile.IsTempName(System.IO.Path.GetFileName(file)))
                try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (System.IO.Directory.Exists(path)) System.IO.Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
