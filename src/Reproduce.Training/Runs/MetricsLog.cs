using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reproduce.Torch.IO;

namespace Reproduce.Training.Runs;

/// <summary>
/// A run's <c>metrics.jsonl</c>: one compact JSON object per line, appended and flushed to disk one record at a
/// time, so a killed run loses at most the line being written. A torn last line (no newline) is cut off before
/// the next append and skipped by <see cref="Read"/>. On resume, <see cref="TruncateAfterStep"/> drops the
/// records logged after the checkpoint being resumed, so the log of a resumed run equals an uninterrupted one.
/// JSON has no NaN or infinity: such values are written as null.
/// </summary>
public sealed class MetricsLog
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly object _gate = new();
    private bool _tailChecked;

    /// <summary>The log at <paramref name="path"/> (created on the first append).</summary>
    public MetricsLog(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>Full path of the file.</summary>
    public string Path { get; }

    /// <summary>Appends one record (a flat or nested JSON object) as a line, flushed to disk.</summary>
    public void Append(JsonObject record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var line = Serialize(Sanitize(record)!, Path) + "\n";
        lock (_gate)
        {
            if (!_tailChecked)
            {
                CutTornTail();
                _tailChecked = true;
            }
            using var fs = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
            fs.Write(Encoding.UTF8.GetBytes(line));
            fs.Flush(flushToDisk: true);
        }
    }

    /// <summary>Appends one record of named numbers (e.g. <c>step</c>, <c>loss</c>, <c>lr</c>).</summary>
    public void Append(IEnumerable<KeyValuePair<string, double>> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var o = new JsonObject();
        foreach (var (k, v) in values) o[k] = double.IsFinite(v) ? JsonValue.Create(v) : null;
        Append(o);
    }

    /// <summary>Every complete record, in order (a torn last line is skipped; a bad line elsewhere throws naming the line).</summary>
    public IReadOnlyList<JsonObject> Read()
    {
        var result = new List<JsonObject>();
        if (!File.Exists(Path)) return result;
        var text = File.ReadAllText(Path, Encoding.UTF8);
        var lines = text.Split('\n');
        // After the split the last element is "" (text ends with a newline) or a torn line: never a complete record.
        for (var i = 0; i < lines.Length - 1; i++)
        {
            if (lines[i].Length == 0) continue;
            try
            {
                result.Add(JsonNode.Parse(lines[i]) as JsonObject ?? throw new JsonException("not an object"));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"metrics log '{Path}', line {i + 1}: not a JSON object: {e.Message}", e);
            }
        }
        return result;
    }

    /// <summary>
    /// Rewrites the log (atomically) without the records whose <c>step</c> is greater than <paramref name="step"/>
    /// (records without a <c>step</c> are kept); returns how many were removed.
    /// </summary>
    public int TruncateAfterStep(long step)
    {
        lock (_gate)
        {
            if (!File.Exists(Path)) return 0;
            var records = Read();
            var kept = records.Where(r => r["step"] is not JsonValue v || !v.TryGetValue<double>(out var s) || s <= step).ToList();
            var sb = new StringBuilder();
            foreach (var r in kept) sb.Append(Serialize(r, Path)).Append('\n');
            AtomicFile.WriteAllText(Path, sb.ToString());
            _tailChecked = true;
            return records.Count - kept.Count;
        }
    }

    private void CutTornTail()
    {
        if (!File.Exists(Path)) return;
        using var fs = new FileStream(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        if (fs.Length == 0) return;
        fs.Seek(-1, SeekOrigin.End);
        if (fs.ReadByte() == '\n') return;
        // Find the end of the last complete line and cut everything after it.
        var keep = fs.Length - 1;
        var buffer = new byte[1];
        while (keep > 0)
        {
            fs.Seek(keep - 1, SeekOrigin.Begin);
            fs.ReadExactly(buffer);
            if (buffer[0] == '\n') break;
            keep--;
        }
        fs.SetLength(keep);
        fs.Flush(flushToDisk: true);
    }

    private static string Serialize(JsonNode node, string path)
    {
        try
        {
            return node.ToJsonString(Compact);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"metrics log '{path}': the record cannot be written as JSON: {e.Message}", e);
        }
    }

    /// <summary>A deep copy with non-finite numbers replaced by null.</summary>
    internal static JsonNode? Sanitize(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => new JsonObject(o.Select(kv => KeyValuePair.Create(kv.Key, Sanitize(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(Sanitize).ToArray()),
        JsonValue v when v.TryGetValue<double>(out var d) && !double.IsFinite(d) => null,
        JsonValue v when v.TryGetValue<float>(out var f) && !float.IsFinite(f) => null,
        _ => JsonNode.Parse(node.ToJsonString(Compact)),
    };

    /// <summary>A number as the log writes it (shortest round-trip, invariant), for messages.</summary>
    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
