using System.Buffers.Binary;
using System.Text;

namespace Reproduce.Vision.Data.TokenLabels;

/// <summary>
/// The on-disk layout of a token-label store (<c>*.tlstore</c>), all little-endian:
/// <code>
/// 0   8  magic "RPTLSTR1"
/// 8   4  version (1)
/// 12  4  top-k
/// 16  4  grid height
/// 20  4  grid width
/// 24  4  number of classes (≤ 65536: indices are uint16)
/// 28  4  reserved (0)
/// 32  8  record count n
/// 40  8  index offset (= 64 + n·record size)
/// 48  8  index length in bytes
/// 56  8  reserved (0)
/// 64     n records, each k·h·w fp16 scores then k·h·w uint16 class indices ([k,h,w] row-major)
/// ...    index: n entries of (uint16 byte length, UTF-8 key), in record order
/// </code>
/// Records have a fixed size, so record i starts at 64 + i·record size; the index maps keys
/// (e.g. "n01440764/n01440764_10026") to record numbers. Files are written to a temporary name and
/// renamed, so a store is either complete or absent.
/// </summary>
public readonly record struct TokenLabelStoreFormat(int TopK, int Height, int Width, int NumClasses)
{
    /// <summary>Magic bytes at offset 0.</summary>
    public static ReadOnlySpan<byte> Magic => "RPTLSTR1"u8;

    /// <summary>Format version.</summary>
    public const int Version = 1;

    /// <summary>Header size in bytes.</summary>
    public const int HeaderSize = 64;

    /// <summary>Bytes per record: k·h·w·(2 + 2).</summary>
    public long RecordSize => (long)TopK * Height * Width * 4;

    /// <summary>Cells per record (k·h·w).</summary>
    public int Cells => TopK * Height * Width;

    /// <summary>Throws unless the dimensions are storable.</summary>
    public void Validate(string what)
    {
        if (TopK <= 0 || Height <= 0 || Width <= 0)
            throw new ArgumentException($"{what}: top-k {TopK} and grid {Height}×{Width} must be positive");
        if (NumClasses <= 0 || NumClasses > 65536)
            throw new ArgumentException($"{what}: {NumClasses} classes do not fit the store's uint16 class indices (1..65536)");
    }

    /// <summary>The 64-byte header for <paramref name="count"/> records and an index of <paramref name="indexLength"/> bytes.</summary>
    public byte[] Header(long count, long indexLength)
    {
        var h = new byte[HeaderSize];
        Magic.CopyTo(h);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(8), Version);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(12), TopK);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(16), Height);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(20), Width);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(24), NumClasses);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(32), count);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(40), HeaderSize + count * RecordSize);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(48), indexLength);
        return h;
    }

    /// <summary>Parses and checks a header against the file length; returns the format, record count and index position.</summary>
    public static (TokenLabelStoreFormat Format, long Count, long IndexOffset, long IndexLength) ParseHeader(ReadOnlySpan<byte> h, long fileLength, string path)
    {
        if (h.Length < HeaderSize || !h[..8].SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a token-label store (missing 'RPTLSTR1' magic)");
        var version = BinaryPrimitives.ReadInt32LittleEndian(h[8..]);
        if (version != Version) throw new InvalidDataException($"{path}: token-label store version {version}, this reader knows {Version}");
        var f = new TokenLabelStoreFormat(
            BinaryPrimitives.ReadInt32LittleEndian(h[12..]), BinaryPrimitives.ReadInt32LittleEndian(h[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(h[20..]), BinaryPrimitives.ReadInt32LittleEndian(h[24..]));
        try { f.Validate(path); }
        catch (ArgumentException e) { throw new InvalidDataException(e.Message, e); }
        var count = BinaryPrimitives.ReadInt64LittleEndian(h[32..]);
        var indexOffset = BinaryPrimitives.ReadInt64LittleEndian(h[40..]);
        var indexLength = BinaryPrimitives.ReadInt64LittleEndian(h[48..]);
        if (count < 0 || indexOffset != HeaderSize + count * f.RecordSize || indexLength < 0 || indexOffset + indexLength != fileLength)
            throw new InvalidDataException(
                $"{path}: header promises {count} records of {f.RecordSize} bytes and a {indexLength}-byte index at {indexOffset}, but the file has {fileLength} bytes (truncated or corrupt)");
        return (f, count, indexOffset, indexLength);
    }

    /// <summary>Encodes the key index.</summary>
    public static byte[] EncodeIndex(IReadOnlyList<string> keys)
    {
        using var ms = new MemoryStream();
        Span<byte> len = stackalloc byte[2];
        foreach (var k in keys)
        {
            var b = Encoding.UTF8.GetBytes(k);
            BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)b.Length);
            ms.Write(len);
            ms.Write(b);
        }
        return ms.ToArray();
    }

    /// <summary>Decodes <paramref name="count"/> keys from an index.</summary>
    public static string[] DecodeIndex(ReadOnlySpan<byte> index, long count, string path)
    {
        var keys = new string[count];
        var p = 0;
        for (var i = 0; i < count; i++)
        {
            if (p + 2 > index.Length) throw new InvalidDataException($"{path}: index ends after {i} of {count} keys");
            var n = BinaryPrimitives.ReadUInt16LittleEndian(index[p..]);
            p += 2;
            if (p + n > index.Length) throw new InvalidDataException($"{path}: index key {i} runs past the end of the file");
            keys[i] = Encoding.UTF8.GetString(index.Slice(p, n));
            p += n;
        }
        if (p != index.Length) throw new InvalidDataException($"{path}: {index.Length - p} unexpected bytes after the {count} index keys");
        return keys;
    }
}
