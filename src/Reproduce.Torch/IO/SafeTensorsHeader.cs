using System.Diagnostics.CodeAnalysis;

namespace Reproduce.Torch.IO;

/// <summary>One tensor's header entry: dtype, shape and where its bytes lie in the data area.</summary>
public sealed class SafeTensorsEntry
{
    internal SafeTensorsEntry(string name, ScalarType dtype, long[] shape, long begin, long end)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        Begin = begin;
        End = end;
    }

    /// <summary>The tensor's key.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public ScalarType DType { get; }

    /// <summary>The safetensors dtype code: F32, BF16, I64, ...</summary>
    public string DTypeCode => SafeTensorsDTypes.Code(DType);

    /// <summary>The sizes of each dimension (empty for a 0-d tensor).</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Number of elements (1 for a 0-d tensor, 0 when any size is 0).</summary>
    public long Numel => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>First byte of the tensor, relative to the start of the data area.</summary>
    public long Begin { get; }

    /// <summary>One past the last byte, relative to the start of the data area.</summary>
    public long End { get; }

    /// <summary><see cref="End"/> − <see cref="Begin"/>.</summary>
    public long ByteLength => End - Begin;

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {DTypeCode}{Tensor.FormatShape(Shape)} @ [{Begin}, {End})";
}

/// <summary>
/// A validated safetensors header: the entries (in data order), the optional <c>__metadata__</c>
/// strings, and the layout of the file. Obtained from <see cref="SafeTensors.ReadHeader(string)"/>
/// without reading any tensor data, or alongside the tensors from <c>SafeTensors.Load</c>.
/// </summary>
public sealed class SafeTensorsHeader
{
    private readonly Dictionary<string, SafeTensorsEntry> _byName;

    internal SafeTensorsHeader(string source, long headerLength, long dataLength, List<SafeTensorsEntry> entries, Dictionary<string, string>? metadata)
    {
        Source = source;
        HeaderLength = headerLength;
        DataLength = dataLength;
        Entries = entries;
        HasMetadata = metadata is not null;
        Metadata = metadata ?? new Dictionary<string, string>(StringComparer.Ordinal);
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    /// <summary>The file path, or the name given for a stream or buffer.</summary>
    public string Source { get; }

    /// <summary>N: the byte length of the JSON header (padding included), as stored in the first 8 bytes.</summary>
    public long HeaderLength { get; }

    /// <summary>Where the data area starts in the file: 8 + N.</summary>
    public long DataStart => 8 + HeaderLength;

    /// <summary>The byte length of the data area (exactly covered by the entries).</summary>
    public long DataLength { get; }

    /// <summary>The tensor entries ordered by their offsets in the data area.</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries { get; }

    /// <summary>True when the header has a <c>__metadata__</c> object (possibly empty).</summary>
    public bool HasMetadata { get; }

    /// <summary>The <c>__metadata__</c> strings (empty when the header has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The entry for <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming the file when absent.</summary>
    public SafeTensorsEntry this[string name] =>
        _byName.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"safetensors '{Source}' has no tensor '{name}'");

    /// <summary>Looks up an entry by key.</summary>
    public bool TryGetEntry(string name, [MaybeNullWhen(false)] out SafeTensorsEntry entry) => _byName.TryGetValue(name, out entry);
}
