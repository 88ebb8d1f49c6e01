using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;

namespace Reproduce.Torch.IO;

/// <summary>
/// Reads and validates a safetensors header. Everything the spec requires is checked before any
/// tensor data is touched: the length prefix, UTF-8 JSON object starting with '{', exactly the keys
/// dtype/shape/data_offsets per entry, known dtypes, non-negative integer shapes and offsets, byte
/// lengths matching shape × element size, no duplicate keys, string-only <c>__metadata__</c>, and
/// offsets that tile the data area exactly (no overlaps, no holes, nothing left over).
/// </summary>
internal static class SafeTensorsParser
{
    /// <summary>The largest header accepted (the official implementation's limit).</summary>
    internal const long MaxHeaderLength = 100_000_000;

    internal const string MetadataKey = "__metadata__";

    /// <summary>Reads the length prefix and header from the stream's current position, leaving it at the data area.</summary>
    internal static SafeTensorsHeader Read(Stream stream, string source)
    {
        long? available = stream.CanSeek ? stream.Length - stream.Position : null;
        Span<byte> prefix = stackalloc byte[8];
        var got = stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false);
        if (got < 8)
            throw new SafeTensorsException(source, null, $"the file is {got} bytes long; a safetensors file needs at least 8 bytes (the header length)");
        var n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderLength)
            throw new SafeTensorsException(source, null,
                $"the header length prefix N = {n} exceeds the {MaxHeaderLength}-byte limit" + (available is { } a0 ? $" (the file is {a0} bytes)" : ""));
        if (available is { } a && (long)n > a - 8)
            throw new SafeTensorsException(source, null, $"the header length prefix N = {n} is larger than the {a - 8} bytes that follow it (the file is {a} bytes)");
        var header = new byte[n];
        got = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got < header.Length)
            throw new SafeTensorsException(source, null, $"the header length prefix N = {n} but the file ends after {8 + got} bytes");
        return Parse(header, source, available is { } b ? b - 8 - (long)n : null);
    }

    /// <summary>
    /// Parses and validates the JSON header. With <paramref name="dataLength"/> null (a stream of
    /// unknown length) the entries must still tile [0, end) and the caller checks the end itself.
    /// </summary>
    internal static SafeTensorsHeader Parse(ReadOnlySpan<byte> header, string source, long? dataLength)
    {
        if (header.Length == 0)
            throw new SafeTensorsException(source, null, "the header is empty (N = 0); it must be a JSON object starting with '{'");
        if (header[0] != (byte)'{')
            throw new SafeTensorsException(source, null, $"the header must start with '{{' but its first byte is 0x{header[0]:X2} (N = {header.Length})");
        if (!Utf8.IsValid(header))
            throw new SafeTensorsException(source, null, $"the header (N = {header.Length} bytes) is not valid UTF-8");

        var entries = new List<SafeTensorsEntry>();
        Dictionary<string, string>? metadata = null;
        try
        {
            var r = new Utf8JsonReader(header, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false, MaxDepth = 64 });
            r.Read();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (Next(ref r) == JsonTokenType.PropertyName)
            {
                var key = r.GetString()!;
                if (!seen.Add(key)) throw new SafeTensorsException(source, key, "the key appears more than once in the header (duplicate keys are not allowed)");
                Next(ref r);
                if (key == MetadataKey) metadata = ParseMetadata(ref r, source);
                else entries.Add(ParseEntry(ref r, source, key));
            }
            // Only whitespace may follow the object; the reader throws on anything else.
            if (r.Read()) throw new SafeTensorsException(source, null, $"unexpected {Kind(r.TokenType)} after the header object");
        }
        catch (JsonException e)
        {
            throw new SafeTensorsException(source, null, $"the header is not valid JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new SafeTensorsException(source, null, $"the header holds a string that is not valid Unicode: {e.Message}", e);
        }

        var end = CheckLayout(entries, source, dataLength);
        return new SafeTensorsHeader(source, header.Length, dataLength ?? end, entries, metadata);
    }

    private static JsonTokenType Next(ref Utf8JsonReader r)
    {
        if (!r.Read()) throw new JsonException("the header ends early");
        return r.TokenType;
    }

    private static string Kind(JsonTokenType t) => t switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "a list",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => t.ToString(),
    };

    private static Dictionary<string, string> ParseMetadata(ref Utf8JsonReader r, string source)
    {
        if (r.TokenType != JsonTokenType.StartObject)
            throw new SafeTensorsException(source, MetadataKey, $"must be an object mapping strings to strings, but it is {Kind(r.TokenType)}");
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        while (Next(ref r) == JsonTokenType.PropertyName)
        {
            var k = r.GetString()!;
            var t = Next(ref r);
            if (t != JsonTokenType.String)
                throw new SafeTensorsException(source, MetadataKey, $"the value of '{k}' is {Kind(t)}; metadata values must be strings");
            if (!d.TryAdd(k, r.GetString()!))
                throw new SafeTensorsException(source, MetadataKey, $"the metadata key '{k}' appears more than once");
        }
        return d;
    }

    private static SafeTensorsEntry ParseEntry(ref Utf8JsonReader r, string source, string name)
    {
        if (r.TokenType != JsonTokenType.StartObject)
            throw new SafeTensorsException(source, name, $"the entry is {Kind(r.TokenType)}, not an object with dtype, shape and data_offsets");
        string? code = null;
        List<long>? shape = null, offsets = null;
        while (Next(ref r) == JsonTokenType.PropertyName)
        {
            var field = r.GetString()!;
            var t = Next(ref r);
            switch (field)
            {
                case "dtype" when code is null:
                    if (t != JsonTokenType.String)
                        throw new SafeTensorsException(source, name, $"dtype is {Kind(t)}, not a string such as \"F32\"");
                    code = r.GetString()!;
                    break;
                case "shape" when shape is null:
                    shape = ReadInts(ref r, source, name, "shape");
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadInts(ref r, source, name, "data_offsets");
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw new SafeTensorsException(source, name, $"the entry has '{field}' more than once");
                default:
                    throw new SafeTensorsException(source, name, $"the entry has an unexpected key '{field}' (allowed: dtype, shape, data_offsets)");
            }
        }
        var missing = new[] { ("dtype", code is null), ("shape", shape is null), ("data_offsets", offsets is null) }
            .Where(x => x.Item2).Select(x => x.Item1).ToArray();
        if (missing.Length > 0)
            throw new SafeTensorsException(source, name, $"the entry lacks {string.Join(" and ", missing)}");
        if (!SafeTensorsDTypes.TryParse(code!, out var dtype))
            throw new SafeTensorsException(source, name, $"unknown or unsupported dtype '{code}' (supported: {string.Join(", ", SafeTensorsDTypes.Codes)})");
        if (offsets!.Count != 2)
            throw new SafeTensorsException(source, name, $"data_offsets must be two integers [begin, end] but has {offsets.Count}: {Tensor.FormatShape(offsets)}");
        var (begin, end) = (offsets[0], offsets[1]);
        if (begin > end)
            throw new SafeTensorsException(source, name, $"data_offsets [{begin}, {end}]: begin is after end");
        long nbytes;
        try
        {
            nbytes = checked(shape!.Aggregate(1L, (a, b) => a * b) * dtype.ElementSize());
        }
        catch (OverflowException)
        {
            throw new SafeTensorsException(source, name, $"shape {Tensor.FormatShape(shape!)} of {code} overflows a 64-bit byte count");
        }
        if (end - begin != nbytes)
            throw new SafeTensorsException(source, name,
                $"data_offsets [{begin}, {end}] span {end - begin} bytes but {code} with shape {Tensor.FormatShape(shape!)} needs {nbytes}");
        return new SafeTensorsEntry(name, dtype, shape!.ToArray(), begin, end);
    }

    private static List<long> ReadInts(ref Utf8JsonReader r, string source, string name, string field)
    {
        if (r.TokenType != JsonTokenType.StartArray)
            throw new SafeTensorsException(source, name, $"{field} is {Kind(r.TokenType)}, not a list of non-negative integers");
        var list = new List<long>();
        JsonTokenType t;
        while ((t = Next(ref r)) != JsonTokenType.EndArray)
        {
            if (t != JsonTokenType.Number)
                throw new SafeTensorsException(source, name, $"{field} item {list.Count} is {Kind(t)}, not a non-negative integer");
            var raw = System.Text.Encoding.UTF8.GetString(r.ValueSpan);
            if (raw.StartsWith('-'))
                throw new SafeTensorsException(source, name, $"{field} item {list.Count} is negative ({raw})");
            if (raw.AsSpan().IndexOfAny(".eE") >= 0)
                throw new SafeTensorsException(source, name, $"{field} item {list.Count} is not an integer ({raw})");
            if (!long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                throw new SafeTensorsException(source, name, $"{field} item {list.Count} is too large ({raw})");
            list.Add(v);
        }
        return list;
    }

    /// <summary>Sorts the entries by offsets and checks they tile the data area; returns its covered length.</summary>
    private static long CheckLayout(List<SafeTensorsEntry> entries, string source, long? dataLength)
    {
        if (dataLength is { } len)
            foreach (var e in entries)
                if (e.End > len)
                    throw new SafeTensorsException(source, e.Name,
                        $"data_offsets [{e.Begin}, {e.End}] run past the end of the data area, which is {len} bytes");
        // Stable sort by (begin, end): zero-length tensors may share an offset with their neighbours.
        var ordered = entries.Select((e, i) => (e, i)).OrderBy(x => x.e.Begin).ThenBy(x => x.e.End).ThenBy(x => x.i).Select(x => x.e).ToList();
        entries.Clear();
        entries.AddRange(ordered);
        long covered = 0;
        SafeTensorsEntry? previous = null;
        foreach (var e in entries)
        {
            if (e.Begin > covered)
                throw new SafeTensorsException(source, e.Name,
                    $"data_offsets [{e.Begin}, {e.End}] leave a hole: bytes [{covered}, {e.Begin}) of the data area belong to no tensor");
            if (e.Begin < covered)
                throw new SafeTensorsException(source, e.Name,
                    $"data_offsets [{e.Begin}, {e.End}] overlap tensor '{previous!.Name}' at [{previous.Begin}, {previous.End}]");
            covered = e.End;
            previous = e;
        }
        if (dataLength is { } total && covered != total)
            throw new SafeTensorsException(source, previous?.Name,
                $"the tensors cover data bytes [0, {covered}) but the data area is {total} bytes: {total - covered} trailing bytes belong to no tensor");
        return covered;
    }
}
