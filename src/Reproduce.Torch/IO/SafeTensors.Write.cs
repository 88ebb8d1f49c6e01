using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Reproduce.Torch.IO;

public static partial class SafeTensors
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Test hook: called with each key just before its data is written (to inject failures).</summary>
    [ThreadStatic] internal static Action<string>? BeforeTensorData;

    private sealed record Item(string Name, byte[] NameUtf8, Tensor Tensor, ScalarType DType, long[] Shape, long Begin, long End);

    /// <summary>
    /// Writes <paramref name="tensors"/> (any device, any layout; stored contiguous, row-major) and
    /// optional string <paramref name="metadata"/> to <paramref name="path"/> atomically: the bytes go to
    /// a temporary file in the same directory, flushed to disk, which then replaces
    /// <paramref name="path"/> by rename. On any failure the temporary file is removed and an existing
    /// file at <paramref name="path"/> is left untouched.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        var items = Prepare(tensors, metadata, path, out var header);
        var dir = Path.GetDirectoryName(full) ?? ".";
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                WriteAll(fs, items, header, path);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Writes a safetensors file to <paramref name="stream"/> (same bytes as <see cref="Save(string, IReadOnlyDictionary{string, Tensor}, IReadOnlyDictionary{string, string}?)"/>).</summary>
    public static void Save(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null, string sourceName = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(stream);
        var items = Prepare(tensors, metadata, sourceName, out var header);
        WriteAll(stream, items, header, sourceName);
    }

    /// <summary>The bytes of a safetensors file holding <paramref name="tensors"/> and <paramref name="metadata"/>.</summary>
    public static byte[] Serialize(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var ms = new MemoryStream();
        Save(ms, tensors, metadata, "<bytes>");
        return ms.ToArray();
    }

    private static byte[] Utf8Of(string s, string source, string? key, string what)
    {
        try
        {
            return StrictUtf8.GetBytes(s);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException(Message(source, key, $"{what} is not valid Unicode (it has an unpaired surrogate)"), e);
        }
    }

    private static string Message(string source, string? key, string text) =>
        key is null ? $"safetensors '{source}': {text}" : $"safetensors '{source}', key '{key}': {text}";

    /// <summary>Validates the inputs, fixes the order and offsets, and builds the padded header.</summary>
    private static List<Item> Prepare(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata, string source, out byte[] header)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors I/O assumes a little-endian host");
        var pending = new List<(string Name, byte[] Utf8, Tensor Tensor, ScalarType DType, long[] Shape)>();
        foreach (var (name, tensor) in tensors)
        {
            if (name == SafeTensorsParser.MetadataKey)
                throw new ArgumentException(Message(source, name, "this key is reserved for the metadata and cannot name a tensor"), nameof(tensors));
            if (tensor is null) throw new ArgumentException(Message(source, name, "the tensor is null"), nameof(tensors));
            var dtype = tensor.DType;
            if (!SafeTensorsDTypes.IsSupported(dtype))
                throw new ArgumentException(Message(source, name, $"{dtype.Name()} cannot be stored (supported: {string.Join(", ", SafeTensorsDTypes.Codes)})"), nameof(tensors));
            pending.Add((name, Utf8Of(name, source, name, "the key"), tensor, dtype, tensor.Shape));
        }
        pending.Sort((a, b) =>
        {
            var c = SafeTensorsDTypes.WriteRank(b.DType).CompareTo(SafeTensorsDTypes.WriteRank(a.DType));
            return c != 0 ? c : a.Utf8.AsSpan().SequenceCompareTo(b.Utf8);
        });

        var items = new List<Item>(pending.Count);
        long offset = 0;
        foreach (var p in pending)
        {
            var n = checked(p.Shape.Aggregate(1L, (a, b) => checked(a * b)) * p.DType.ElementSize());
            items.Add(new Item(p.Name, p.Utf8, p.Tensor, p.DType, p.Shape, offset, offset + n));
            offset += n;
        }

        // Compact JSON exactly as serde_json writes it, so the bytes match the official writer.
        var json = new MemoryStream();
        json.WriteByte((byte)'{');
        var first = true;
        if (metadata is not null)
        {
            var entries = new List<(byte[] Key, byte[] Value)>();
            foreach (var (k, v) in metadata)
            {
                if (v is null) throw new ArgumentException(Message(source, SafeTensorsParser.MetadataKey, $"the value of '{k}' is null"), nameof(metadata));
                entries.Add((Utf8Of(k, source, SafeTensorsParser.MetadataKey, $"metadata key '{k}'"), Utf8Of(v, source, SafeTensorsParser.MetadataKey, $"the value of '{k}'")));
            }
            entries.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
            WriteJsonString(json, Encoding.UTF8.GetBytes(SafeTensorsParser.MetadataKey));
            json.WriteByte((byte)':');
            json.WriteByte((byte)'{');
            for (var i = 0; i < entries.Count; i++)
            {
                if (i > 0) json.WriteByte((byte)',');
                WriteJsonString(json, entries[i].Key);
                json.WriteByte((byte)':');
                WriteJsonString(json, entries[i].Value);
            }
            json.WriteByte((byte)'}');
            first = false;
        }
        foreach (var it in items)
        {
            if (!first) json.WriteByte((byte)',');
            first = false;
            WriteJsonString(json, it.NameUtf8);
            WriteAscii(json, $":{{\"dtype\":\"{SafeTensorsDTypes.Code(it.DType)}\",\"shape\":[");
            WriteAscii(json, string.Join(",", it.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))));
            WriteAscii(json, FormattableString.Invariant($"],\"data_offsets\":[{it.Begin},{it.End}]}}"));
        }
        json.WriteByte((byte)'}');
        var pad = (int)((8 - json.Length % 8) % 8);
        for (var i = 0; i < pad; i++) json.WriteByte((byte)' ');
        if (json.Length > SafeTensorsParser.MaxHeaderLength)
            throw new ArgumentException(Message(source, null, $"the header would be {json.Length} bytes, over the {SafeTensorsParser.MaxHeaderLength}-byte limit readers enforce"));
        header = json.ToArray();
        return items;
    }

    private static void WriteAscii(Stream s, string text)
    {
        foreach (var c in text) s.WriteByte((byte)c);
    }

    /// <summary>A JSON string as serde_json writes it: only '"', '\\' and control characters escaped.</summary>
    private static void WriteJsonString(Stream s, byte[] utf8)
    {
        const string hex = "0123456789abcdef";
        s.WriteByte((byte)'"');
        foreach (var b in utf8)
        {
            switch (b)
            {
                case (byte)'"': s.WriteByte((byte)'\\'); s.WriteByte((byte)'"'); break;
                case (byte)'\\': s.WriteByte((byte)'\\'); s.WriteByte((byte)'\\'); break;
                case 0x08: s.WriteByte((byte)'\\'); s.WriteByte((byte)'b'); break;
                case 0x0C: s.WriteByte((byte)'\\'); s.WriteByte((byte)'f'); break;
                case 0x0A: s.WriteByte((byte)'\\'); s.WriteByte((byte)'n'); break;
                case 0x0D: s.WriteByte((byte)'\\'); s.WriteByte((byte)'r'); break;
                case 0x09: s.WriteByte((byte)'\\'); s.WriteByte((byte)'t'); break;
                case < 0x20:
                    WriteAscii(s, "\\u00");
                    s.WriteByte((byte)hex[b >> 4]);
                    s.WriteByte((byte)hex[b & 15]);
                    break;
                default: s.WriteByte(b); break;
            }
        }
        s.WriteByte((byte)'"');
    }

    private static void WriteAll(Stream stream, List<Item> items, byte[] header, string source)
    {
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        foreach (var it in items)
        {
            BeforeTensorData?.Invoke(it.Name);
            WriteData(stream, it, source);
        }
        stream.Flush();
    }

    private static unsafe void WriteData(Stream stream, Item it, string source)
    {
        var n = it.End - it.Begin;
        using var scope = Scope.Enter();
        var t = it.Tensor;
        if (t.Device.Type != DeviceType.Cpu) t = t.To(Device.Cpu);
        if (!t.IsContiguous) t = t.Contiguous();
        if (t.DType != it.DType || !t.Shape.SequenceEqual(it.Shape))
            throw new InvalidOperationException(Message(source, it.Name, $"the tensor changed while it was being saved (now {t.Describe()})"));
        if (n == 0) return;
        var p = (byte*)t.DataPointer();
        if (p == null)
        {
            stream.Write(t.ToBytes());
            return;
        }
        long done = 0;
        while (done < n)
        {
            var chunk = (int)Math.Min(n - done, 1 << 26);
            stream.Write(new ReadOnlySpan<byte>(p + done, chunk));
            done += chunk;
        }
    }
}
