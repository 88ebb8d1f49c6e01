using Reproduce.Training.Config;

namespace Reproduce.Training.Runs;

/// <summary>One entry of <see cref="RunStore.List"/>.</summary>
/// <param name="Id">Directory name.</param>
/// <param name="Path">Full path.</param>
/// <param name="Hash">SHA-256 of its canonical configuration, or null when config.json could not be read.</param>
/// <param name="Status">Where it stands.</param>
/// <param name="Problem">Why config.json could not be read (e.g. written by an older schema), or null.</param>
public sealed record RunInfo(string Id, string Path, string? Hash, RunStatus Status, string? Problem);

/// <summary>
/// A directory of runs (e.g. <c>results/quick/&lt;paper&gt;/runs</c>), each in its own
/// <see cref="RunDirectory"/> named after its configuration's hash. A script resolves a configuration, asks
/// <see cref="OpenOrCreate"/> for its run, skips it when <see cref="RunDirectory.IsFinished"/>, and otherwise
/// resumes from its last checkpoint.
/// </summary>
public sealed class RunStore
{
    /// <summary>The store rooted at <paramref name="root"/> (created on the first run).</summary>
    public RunStore(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        Root = System.IO.Path.GetFullPath(root);
    }

    /// <summary>Full path of the root directory.</summary>
    public string Root { get; }

    /// <summary>Where the run of <paramref name="config"/> lives (whether or not it exists yet).</summary>
    public string PathFor(RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return System.IO.Path.Combine(Root, config.RunId());
    }

    /// <summary>See <see cref="RunDirectory.OpenOrCreate"/>.</summary>
    public RunDirectory OpenOrCreate(RunConfig config) => RunDirectory.OpenOrCreate(Root, config);

    /// <summary>Every run directory (a sub-directory with a config.json), ordered by name.</summary>
    public IReadOnlyList<RunInfo> List()
    {
        var result = new List<RunInfo>();
        if (!Directory.Exists(Root)) return result;
        foreach (var dir in Directory.EnumerateDirectories(Root).Order(StringComparer.Ordinal))
        {
            if (!File.Exists(System.IO.Path.Combine(dir, RunDirectory.ConfigFile))) continue;
            try
            {
                var run = RunDirectory.Open(dir);
                result.Add(new RunInfo(run.Id, run.Path, run.Hash, run.Status, null));
            }
            catch (Exception e) when (e is ConfigException or IOException or InvalidDataException)
            {
                result.Add(new RunInfo(System.IO.Path.GetFileName(dir), dir, null, RunStatus.Resumable, e.Message));
            }
        }
        return result;
    }

    /// <summary>
    /// The run whose configuration hash starts with <paramref name="hashPrefix"/> (at least 6 hex digits), or whose
    /// directory name equals it; null when none. Throws when the prefix matches more than one run.
    /// </summary>
    public RunDirectory? Find(string hashPrefix)
    {
        ArgumentNullException.ThrowIfNull(hashPrefix);
        var runs = List();
        var byId = runs.FirstOrDefault(r => r.Id == hashPrefix);
        if (byId is not null) return RunDirectory.Open(byId.Path);
        if (hashPrefix.Length < 6) throw new ArgumentException($"RunStore.Find: give at least 6 hex digits of the hash (got '{hashPrefix}')");
        var matches = runs.Where(r => r.Hash is not null && r.Hash.StartsWith(hashPrefix, StringComparison.OrdinalIgnoreCase)).ToList();
        return matches.Count switch
        {
            0 => null,
            1 => RunDirectory.Open(matches[0].Path),
            _ => throw new ArgumentException($"RunStore.Find: '{hashPrefix}' matches {matches.Count} runs: {string.Join(", ", matches.Select(m => m.Id))}"),
        };
    }

    /// <summary>The existing run with the same resolved configuration as <paramref name="config"/> (found by hash, whatever its directory is called), or null.</summary>
    public RunDirectory? Find(RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var hash = config.Hash();
        var match = List().FirstOrDefault(r => r.Hash == hash);
        return match is null ? null : RunDirectory.Open(match.Path);
    }
}
