using Reproduce.Torch.Nn;

namespace Reproduce.Torch.IO;

/// <summary>
/// The safetensors format (https://huggingface.co/docs/safetensors), the project's tensor file
/// format, interoperable with PyTorch's <c>safetensors.torch</c> and timm checkpoints.
/// <para>
/// Layout: an 8-byte little-endian u64 N; N bytes of UTF-8 JSON, padded with spaces so that 8 + N
/// is a multiple of 8; then the data area of packed row-major little-endian tensor bytes. Each JSON
/// entry is <c>"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}</c>, offsets
/// relative to the data area; an optional <c>"__metadata__"</c> object maps strings to strings.
/// </para>
/// <para>
/// Writing is deterministic and byte-identical to the official Rust writer: <c>__metadata__</c>
/// first (its keys sorted by UTF-8 bytes), then tensors ordered by dtype in the official order
/// I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL (so larger elements come first and stay
/// aligned), ties broken by key compared as UTF-8 bytes; data is laid out in that same order.
/// </para>
/// <para>
/// Reading validates the whole header before touching data (see <see cref="SafeTensorsException"/>)
/// and then reads tensor by tensor straight into tensor memory, so a file is never held twice.
/// Loaded tensors belong to the current <see cref="Scope"/>, like any op result.
/// </para>
/// </summary>
public static partial class SafeTensors
{
    /// <summary>The conventional file extension.</summary>
    public const string Extension = ".safetensors";

    /// <summary>Most dimensions a loaded tensor may have (the binding's limit for shape queries).</summary>
    public const int MaxLoadRank = 16;

    // ---- reading ----------------------------------------------------------------------------------

    /// <summary>Reads and validates the header of a file without reading tensor data.</summary>
    public static SafeTensorsHeader ReadHeader(string path)
    {
        using var fs = OpenRead(path);
        return SafeTensorsParser.Read(fs, path);
    }

    /// <summary>Reads and validates a header from <paramref name="stream"/>'s current position, leaving it at the data area.</summary>
    public static SafeTensorsHeader ReadHeader(Stream stream, string sourceName = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(stream);
        return SafeTensorsParser.Read(stream, sourceName);
    }

    /// <summary>Reads and validates the header of an in-memory safetensors file.</summary>
    public static SafeTensorsHeader ReadHeader(byte[] bytes, string sourceName = "<bytes>")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var ms = new MemoryStream(bytes, writable: false);
        return SafeTensorsParser.Read(ms, sourceName);
    }

    /// <summary>
    /// Loads every tensor of a file, keyed by name in data order, onto <paramref name="device"/>
    /// (CPU by default). The tensors belong to the current scope.
    /// </summary>
    public static Dictionary<string, Tensor> Load(string path, Device? device = null) => Load(path, out _, device);

    /// <summary>Loads every tensor of a file and returns its header (with <see cref="SafeTensorsHeader.Metadata"/>).</summary>
    public static Dictionary<string, Tensor> Load(string path, out SafeTensorsHeader header, Device? device = null)
    {
        using var fs = OpenRead(path);
        return LoadCore(fs, path, device, out header);
    }

    /// <summary>Loads a safetensors file from <paramref name="stream"/> (seekable or not), read to its end.</summary>
    public static Dictionary<string, Tensor> Load(Stream stream, out SafeTensorsHeader header, string sourceName = "<stream>", Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return LoadCore(stream, sourceName, device, out header);
    }

    /// <summary>Loads an in-memory safetensors file.</summary>
    public static Dictionary<string, Tensor> Load(byte[] bytes, out SafeTensorsHeader header, string sourceName = "<bytes>", Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var ms = new MemoryStream(bytes, writable: false);
        return LoadCore(ms, sourceName, device, out header);
    }

    private static FileStream OpenRead(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
    }

    private static Dictionary<string, Tensor> LoadCore(Stream stream, string source, Device? device, out SafeTensorsHeader header)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors I/O assumes a little-endian host");
        header = SafeTensorsParser.Read(stream, source);
        var result = new Dictionary<string, Tensor>(header.Entries.Count, StringComparer.Ordinal);
        // Everything is created in a private scope so a failure part-way frees what was loaded.
        using (var scope = Scope.Enter())
        {
            foreach (var e in header.Entries)
            {
                if (e.Shape.Count > MaxLoadRank)
                    throw new SafeTensorsException(source, e.Name, $"the tensor has {e.Shape.Count} dimensions; at most {MaxLoadRank} can be loaded");
                Tensor t;
                try
                {
                    t = Torch.Empty(e.Shape.ToArray(), e.DType);
                }
                catch (TorchException ex)
                {
                    throw new SafeTensorsException(source, e.Name, $"cannot allocate {e.ByteLength} bytes for data_offsets [{e.Begin}, {e.End}]: {ex.Message}", ex);
                }
                ReadData(stream, t, e, source);
                if (device is { } d && d.Type != DeviceType.Cpu)
                {
                    var moved = t.To(d);
                    t.Dispose();
                    t = moved;
                }
                result.Add(e.Name, t);
            }
            if (!stream.CanSeek && stream.ReadByte() >= 0)
                throw new SafeTensorsException(source, header.Entries.Count > 0 ? header.Entries[^1].Name : null,
                    $"the tensors cover data bytes [0, {header.DataLength}) but the stream has more bytes after them");
            foreach (var t in result.Values) scope.MoveOut(t);
        }
        return result;
    }

    private static unsafe void ReadData(Stream stream, Tensor t, SafeTensorsEntry e, string source)
    {
        var n = e.ByteLength;
        if (n == 0) return;
        var p = (byte*)t.DataPointer();
        if (p == null) throw new InvalidOperationException($"SafeTensors.Load: the fresh tensor for '{e.Name}' has no CPU data pointer");
        long done = 0;
        while (done < n)
        {
            var chunk = (int)Math.Min(n - done, 1 << 26);
            var got = stream.ReadAtLeast(new Span<byte>(p + done, chunk), chunk, throwOnEndOfStream: false);
            if (got < chunk)
                throw new SafeTensorsException(source, e.Name,
                    $"data_offsets [{e.Begin}, {e.End}]: the file ends {done + got} bytes into the tensor's {n} bytes");
            done += chunk;
        }
    }

    // ---- modules ----------------------------------------------------------------------------------

    /// <summary>Saves <paramref name="module"/>'s state dict (parameters and persistent buffers) to <paramref name="path"/>.</summary>
    public static void SaveModule(string path, Module module, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var scope = Scope.Enter();
        Save(path, module.StateDict(), metadata);
    }

    /// <summary>
    /// Loads a file into <paramref name="module"/>'s parameters and buffers by key (see
    /// <see cref="Module.LoadStateDict"/>): with <paramref name="strict"/>, missing or unexpected keys throw.
    /// Values are copied onto each parameter's own device and dtype.
    /// </summary>
    public static LoadResult LoadInto(Module module, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var scope = Scope.Enter();
        var state = Load(path);
        try
        {
            return module.LoadStateDict(state, strict);
        }
        catch (TorchException e)
        {
            throw new TorchException($"loading safetensors '{path}': {e.Message}");
        }
    }
}
