using System.Text.Json;
using System.Text.Json.Nodes;
using Reproduce.Training.Config;

namespace Reproduce.Training.Checkpoints;

/// <summary>One retained checkpoint as listed in the manifest.</summary>
/// <param name="Name">Directory name (<c>ckpt-&lt;step, 10 digits&gt;-&lt;8 hex&gt;</c>).</param>
/// <param name="Step">Saved step.</param>
/// <param name="Epoch">Saved epoch.</param>
/// <param name="Metric">Ranking metric value, or null.</param>
public sealed record CheckpointEntry(string Name, long Step, long Epoch, double? Metric);

/// <summary>
/// <c>checkpoints/manifest.json</c>: the single source of truth about which checkpoints exist. It is replaced
/// atomically after a new checkpoint directory is complete, so a crash at any moment leaves either the old or
/// the new manifest, both naming only complete checkpoints. Layout:
/// <code>
/// { "format": "reproduce.checkpoints", "version": 1, "metric": "top1", "mode": "max",
///   "last": "ckpt-…", "best": "ckpt-…" | null, "top_k": ["ckpt-…", …],      (best first)
///   "entries": [ {"name": "ckpt-…", "step": 120, "epoch": 3, "metric": 81.5 | null}, … ] }
/// </code>
/// <c>entries</c> lists every retained checkpoint (last ∪ best ∪ top_k), oldest first.
/// </summary>
public sealed record CheckpointManifest
{
    /// <summary>The manifest's format name.</summary>
    public const string FormatName = "reproduce.checkpoints";

    /// <summary>Ranking metric name.</summary>
    public required string Metric { get; init; }
    /// <summary>Whether larger or smaller is better.</summary>
    public required MetricMode Mode { get; init; }
    /// <summary>Most recent checkpoint, or null when there is none.</summary>
    public string? Last { get; init; }
    /// <summary>Best checkpoint by the metric so far, or null.</summary>
    public string? Best { get; init; }
    /// <summary>The K best, best first.</summary>
    public IReadOnlyList<string> TopK { get; init; } = [];
    /// <summary>Every retained checkpoint, oldest first.</summary>
    public IReadOnlyList<CheckpointEntry> Entries { get; init; } = [];

    /// <summary>The entry named <paramref name="name"/>, or null.</summary>
    public CheckpointEntry? Find(string? name) => name is null ? null : Entries.FirstOrDefault(e => e.Name == name);

    /// <summary>True when <paramref name="a"/> ranks strictly better than <paramref name="b"/>.</summary>
    public bool Better(double a, double b) => Mode == MetricMode.Max ? a > b : a < b;

    /// <summary>
    /// The manifest after adding <paramref name="entry"/> as the newest checkpoint, keeping the
    /// <paramref name="keepTopK"/> best (ties: the earlier one stays ahead) and the best overall.
    /// </summary>
    public CheckpointManifest Add(CheckpointEntry entry, int keepTopK)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var all = Entries.Append(entry).ToList();
        var best = Find(Best);
        if (entry.Metric is { } m && (best?.Metric is not { } bm || Better(m, bm))) best = entry;
        var ranked = TopK.Select(n => Find(n)!).Where(e => e is not null).ToList();
        if (entry.Metric is not null) ranked.Add(entry);
        // Stable sort: among equal values the older entry (earlier in the list) stays first.
        var sign = Mode == MetricMode.Max ? -1 : 1;
        var top = ranked.Select((e, i) => (e, i)).OrderBy(x => sign * x.e.Metric!.Value).ThenBy(x => x.i).Select(x => x.e).Take(keepTopK).ToList();
        var keep = new HashSet<string>(StringComparer.Ordinal) { entry.Name };
        if (best is not null) keep.Add(best.Name);
        foreach (var e in top) keep.Add(e.Name);
        return this with
        {
            Last = entry.Name,
            Best = best?.Name,
            TopK = top.Select(e => e.Name).ToList(),
            Entries = all.Where(e => keep.Contains(e.Name)).ToList(),
        };
    }

    /// <summary>The manifest as indented JSON.</summary>
    public string ToJson()
    {
        var o = new JsonObject
        {
            ["format"] = FormatName,
            ["version"] = 1,
            ["metric"] = Metric,
            ["mode"] = ConfigSchema.EnumName(Mode),
            ["last"] = Last,
            ["best"] = Best,
            ["top_k"] = new JsonArray(TopK.Select(n => (JsonNode)n).ToArray()),
            ["entries"] = new JsonArray(Entries.Select(e => (JsonNode)new JsonObject
            {
                ["name"] = e.Name, ["step"] = e.Step, ["epoch"] = e.Epoch, ["metric"] = e.Metric,
            }).ToArray()),
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>Parses a manifest, naming <paramref name="path"/> when it is malformed.</summary>
    public static CheckpointManifest Parse(string text, string path)
    {
        try
        {
            var o = JsonNode.Parse(text) as JsonObject ?? throw new CheckpointException($"checkpoint manifest '{path}' is not a JSON object");
            if ((string?)o["format"] != FormatName || o["version"]?.GetValue<int>() != 1)
                throw new CheckpointException($"checkpoint manifest '{path}' is not a {FormatName} version 1 file");
            var mode = ConfigSchema.ParseEnum(typeof(MetricMode), (string?)o["mode"] ?? "") as MetricMode?
                       ?? throw new CheckpointException($"checkpoint manifest '{path}' has no valid mode");
            var entries = (o["entries"] as JsonArray ?? []).Select(n => Required(n, "entry", path)).Select(e => new CheckpointEntry(
                (string?)e["name"] ?? throw new CheckpointException($"checkpoint manifest '{path}': an entry has no name"),
                Required(e["step"], "step", path).GetValue<long>(), Required(e["epoch"], "epoch", path).GetValue<long>(), e["metric"]?.GetValue<double>())).ToList();
            var manifest = new CheckpointManifest
            {
                Metric = (string?)o["metric"] ?? throw new CheckpointException($"checkpoint manifest '{path}' names no metric"),
                Mode = mode,
                Last = (string?)o["last"],
                Best = (string?)o["best"],
                TopK = (o["top_k"] as JsonArray ?? []).Select(n => (string)n!).ToList(),
                Entries = entries,
            };
            foreach (var name in new[] { manifest.Last, manifest.Best }.Concat(manifest.TopK))
                if (name is not null && manifest.Find(name) is null)
                    throw new CheckpointException($"checkpoint manifest '{path}' refers to '{name}', which it does not list");
            return manifest;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new CheckpointException($"checkpoint manifest '{path}' is malformed: {e.Message}", e);
        }
    }

    private static JsonNode Required(JsonNode? node, string what, string path) =>
        node ?? throw new CheckpointException($"checkpoint manifest '{path}': an entry lacks its {what}");
}
