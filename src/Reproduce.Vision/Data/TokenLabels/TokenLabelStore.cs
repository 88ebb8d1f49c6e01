using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Reproduce.Torch;

namespace Reproduce.Vision.Data.TokenLabels;

/// <summary>
/// Reads a token-label store written by <see cref="TokenLabelStoreWriter"/>. Records are read with
/// positional I/O, so any number of loader threads may call <see cref="Read(int)"/> concurrently.
/// </summary>
public sealed class TokenLabelStore : ITokenLabelSource, IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly Dictionary<string, int> _byKey;
    private readonly string[] _keys;

    private TokenLabelStore(string path, SafeFileHandle file, TokenLabelStoreFormat format, string[] keys)
    {
        Path = path;
        _file = file;
        Format = format;
        _keys = keys;
        _byKey = new Dictionary<string, int>(keys.Length, StringComparer.Ordinal);
        for (var i = 0; i < keys.Length; i++)
            if (!_byKey.TryAdd(keys[i], i)) throw new InvalidDataException($"{path}: key '{keys[i]}' appears twice in the index");
    }

    /// <summary>The store's file.</summary>
    public string Path { get; }

    /// <summary>Dimensions shared by all records.</summary>
    public TokenLabelStoreFormat Format { get; }

    /// <summary>Number of records.</summary>
    public int Count => _keys.Length;

    /// <summary>Keys in record order.</summary>
    public IReadOnlyList<string> Keys => _keys;

    /// <summary>Opens a store, validating the header, the file length and the index.</summary>
    public static TokenLabelStore Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"token-label store '{path}' does not exist", path);
        var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            var length = RandomAccess.GetLength(file);
            var header = new byte[TokenLabelStoreFormat.HeaderSize];
            if (RandomAccess.Read(file, header, 0) != header.Length)
                throw new InvalidDataException($"{path}: {length} bytes is shorter than the {TokenLabelStoreFormat.HeaderSize}-byte header");
            var (format, count, indexOffset, indexLength) = TokenLabelStoreFormat.ParseHeader(header, length, path);
            if (count > int.MaxValue || indexLength > int.MaxValue) throw new InvalidDataException($"{path}: {count} records / {indexLength}-byte index are more than this reader supports");
            var index = new byte[indexLength];
            ReadExactly(file, index, indexOffset, path);
            var keys = TokenLabelStoreFormat.DecodeIndex(index, count, path);
            return new TokenLabelStore(path, file, format, keys);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The record number of <paramref name="key"/>, if present.</summary>
    public bool TryGetIndex(string key, out int index) => _byKey.TryGetValue(key, out index);

    /// <inheritdoc/>
    public bool Contains(string key) => _byKey.ContainsKey(key);

    /// <inheritdoc/>
    public TokenLabelMap Read(string key) => _byKey.TryGetValue(key, out var i)
        ? Read(i)
        : throw new KeyNotFoundException($"token-label store '{Path}' has no map for key '{key}' ({Count} keys)");

    /// <summary>Record <paramref name="index"/> as a map (values float32, indices int64) in the current scope.</summary>
    public TokenLabelMap Read(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"token-label store '{Path}' has records 0..{Count - 1}, not {index}");
        var cells = Format.Cells;
        var bytes = new byte[Format.RecordSize];
        ReadExactly(_file, bytes, TokenLabelStoreFormat.HeaderSize + index * Format.RecordSize, Path);
        var values = MemoryMarshal.Cast<byte, Half>(bytes.AsSpan(0, cells * 2));
        var classes = MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan(cells * 2, cells * 2));
        var idx = new long[cells];
        for (var i = 0; i < cells; i++)
        {
            idx[i] = classes[i];
            if (idx[i] >= Format.NumClasses)
                throw new InvalidDataException($"{Path}: record {index} ('{_keys[index]}') has class index {idx[i]} outside 0..{Format.NumClasses - 1}");
        }
        long[] shape = [Format.TopK, Format.Height, Format.Width];
        using var s = Scope.Enter();
        var v = Tensor.From<Half>(values, shape).To(ScalarType.Float32);
        var ix = Tensor.From<long>(idx, shape);
        return new TokenLabelMap(s.MoveOut(v), s.MoveOut(ix));
    }

    /// <inheritdoc/>
    public void Dispose() => _file.Dispose();

    private static void ReadExactly(SafeFileHandle file, Span<byte> buffer, long offset, string path)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var n = RandomAccess.Read(file, buffer[done..], offset + done);
            if (n <= 0) throw new InvalidDataException($"{path}: unexpected end of file at byte {offset + done}");
            done += n;
        }
    }
}
