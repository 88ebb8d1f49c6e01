using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Reproduce.Vision.Data.Datasets;

/// <summary>A real numeric MATLAB array: its dimensions and its values in MATLAB's column-major order.</summary>
/// <param name="Dims">MATLAB's dimensions (a column vector of n values is [n, 1]).</param>
/// <param name="Values">The values, converted to double, column-major.</param>
public sealed record MatArray(int[] Dims, double[] Values);

/// <summary>
/// A minimal reader of MATLAB's v5 MAT-file format (the format of NYUv2's official <c>splits.mat</c>, which
/// h5py cannot open). It reads the real numeric matrices (double, single and the integer classes), in any
/// storage type MATLAB chose for them (it stores integer-valued doubles as <c>miUINT8</c>/<c>miUINT16</c>, for
/// example), inside or outside <c>miCOMPRESSED</c> (zlib) elements, in little-endian files. Other variables
/// (cells, structs, chars, sparse, complex) are skipped. Format: MathWorks, "MAT-File Format" (v5: a 128-byte
/// header, then tagged data elements, each padded to 8 bytes, with the small-data-element form for ≤ 4 bytes).
/// </summary>
public static class MatV5
{
    private const int MiInt8 = 1, MiUInt8 = 2, MiInt16 = 3, MiUInt16 = 4, MiInt32 = 5, MiUInt32 = 6, MiSingle = 7, MiDouble = 9,
        MiInt64 = 12, MiUInt64 = 13, MiMatrix = 14, MiCompressed = 15;

    /// <summary>Reads every real numeric matrix of the file at <paramref name="path"/>, by variable name.</summary>
    /// <exception cref="InvalidDataException">The file is not a v5 MAT-file or is damaged; the message starts with its path.</exception>
    public static IReadOnlyDictionary<string, MatArray> ReadNumeric(string path)
    {
        var bytes = File.ReadAllBytes(path);
        try
        {
            return Read(bytes);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or IndexOutOfRangeException or EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Reads every real numeric matrix of an in-memory v5 MAT-file.</summary>
    public static IReadOnlyDictionary<string, MatArray> Read(byte[] file)
    {
        if (file.Length < 128 || !file.AsSpan(0, 6).SequenceEqual("MATLAB"u8))
            throw new InvalidDataException("not a MATLAB MAT-file (no 'MATLAB' header text)");
        if (file[126] == 'M' && file[127] == 'I')
            throw new InvalidDataException("big-endian MAT-file: not supported (save it again on a little-endian machine)");
        if (file[126] != 'I' || file[127] != 'M')
            throw new InvalidDataException("not a v5 MAT-file (no endian indicator at byte 126; a v7.3 file is HDF5)");
        var result = new Dictionary<string, MatArray>(StringComparer.Ordinal);
        ReadElements(file.AsSpan(128), result, topLevel: true);
        return result;
    }

    private static void ReadElements(ReadOnlySpan<byte> data, Dictionary<string, MatArray> into, bool topLevel)
    {
        var pos = 0;
        while (pos + 8 <= data.Length)
        {
            var (type, size, payload, next) = Element(data, pos);
            if (type == MiCompressed)
            {
                ReadElements(Inflate(data.Slice(payload, size)), into, topLevel);
                pos = payload + size; // MATLAB does not pad compressed elements
                continue;
            }
            if (type == MiMatrix && size > 0 && ReadMatrix(data.Slice(payload, size)) is { } m) into[m.Name] = m.Array;
            pos = next;
        }
        if (topLevel && pos < data.Length && data[pos..].IndexOfAnyExcept((byte)0) >= 0)
            throw new InvalidDataException($"{data.Length - pos} trailing byte(s) after the last data element");
    }

    /// <summary>The tag at <paramref name="pos"/>: type, byte count, where the data starts, where the next tag starts.</summary>
    private static (int Type, int Size, int Payload, int Next) Element(ReadOnlySpan<byte> data, int pos)
    {
        var word = BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]);
        if (word >> 16 != 0) // small data element: type in the low 16 bits, count in the high 16, data in the next 4 bytes
        {
            var small = (int)(word >> 16);
            if (small > 4) throw new InvalidDataException($"small data element at byte {pos} claims {small} bytes (at most 4)");
            return ((int)(word & 0xFFFF), small, pos + 4, pos + 8);
        }
        var size = BinaryPrimitives.ReadUInt32LittleEndian(data[(pos + 4)..]);
        if (size > (uint)(data.Length - pos - 8))
            throw new InvalidDataException($"data element at byte {pos} (type {word}) claims {size} bytes, {data.Length - pos - 8} remain (truncated file?)");
        var padded = (int)Math.Min(data.Length, pos + 8 + ((size + 7) & ~7u));
        return ((int)word, (int)size, pos + 8, padded);
    }

    private static byte[] Inflate(ReadOnlySpan<byte> compressed)
    {
        try
        {
            using var z = new ZLibStream(new MemoryStream(compressed.ToArray()), CompressionMode.Decompress);
            using var o = new MemoryStream();
            z.CopyTo(o);
            return o.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"compressed element does not inflate ({e.Message})", e);
        }
    }

    private static (string Name, MatArray Array)? ReadMatrix(ReadOnlySpan<byte> m)
    {
        var (flagsType, flagsSize, flagsAt, next) = Element(m, 0);
        if (flagsType != MiUInt32 || flagsSize != 8) throw new InvalidDataException("matrix without its array-flags subelement");
        var (cls, complex) = (m[flagsAt], (m[flagsAt + 1] & 0x08) != 0);
        var (dimsType, dimsSize, dimsAt, afterDims) = Element(m, next);
        if (dimsType != MiInt32 || dimsSize % 4 != 0) throw new InvalidDataException("matrix without its dimensions subelement");
        var dims = new int[dimsSize / 4];
        for (var i = 0; i < dims.Length; i++) dims[i] = BinaryPrimitives.ReadInt32LittleEndian(m[(dimsAt + 4 * i)..]);
        var (nameType, nameSize, nameAt, afterName) = Element(m, afterDims);
        if (nameType != MiInt8) throw new InvalidDataException("matrix without its name subelement");
        var name = Encoding.ASCII.GetString(m.Slice(nameAt, nameSize));
        if (cls is < 6 or > 15 || complex) return null; // cell, struct, object, char, sparse or complex: not needed here
        var count = dims.Aggregate(1L, (a, d) => a * d);
        if (dims.Any(d => d < 0) || count > int.MaxValue) throw new InvalidDataException($"variable '{name}': bad dimensions [{string.Join(", ", dims)}]");
        var (realType, realSize, realAt, _) = Element(m, afterName);
        var values = Numbers(m.Slice(realAt, realSize), realType, name);
        if (values.Length != count)
            throw new InvalidDataException($"variable '{name}': {values.Length} value(s) stored for dimensions [{string.Join(", ", dims)}]");
        return (name, new MatArray(dims, values));
    }

    private static double[] Numbers(ReadOnlySpan<byte> b, int type, string name)
    {
        var width = type switch
        {
            MiInt8 or MiUInt8 => 1,
            MiInt16 or MiUInt16 => 2,
            MiInt32 or MiUInt32 or MiSingle => 4,
            MiDouble or MiInt64 or MiUInt64 => 8,
            _ => throw new InvalidDataException($"variable '{name}': unsupported storage type {type}"),
        };
        if (b.Length % width != 0) throw new InvalidDataException($"variable '{name}': {b.Length} bytes is not a whole number of {width}-byte values");
        var v = new double[b.Length / width];
        for (var i = 0; i < v.Length; i++)
        {
            var s = b.Slice(i * width, width);
            v[i] = type switch
            {
                MiInt8 => (sbyte)s[0],
                MiUInt8 => s[0],
                MiInt16 => BinaryPrimitives.ReadInt16LittleEndian(s),
                MiUInt16 => BinaryPrimitives.ReadUInt16LittleEndian(s),
                MiInt32 => BinaryPrimitives.ReadInt32LittleEndian(s),
                MiUInt32 => BinaryPrimitives.ReadUInt32LittleEndian(s),
                MiSingle => BinaryPrimitives.ReadSingleLittleEndian(s),
                MiInt64 => BinaryPrimitives.ReadInt64LittleEndian(s),
                MiUInt64 => BinaryPrimitives.ReadUInt64LittleEndian(s),
                _ => BinaryPrimitives.ReadDoubleLittleEndian(s),
            };
        }
        return v;
    }
}
