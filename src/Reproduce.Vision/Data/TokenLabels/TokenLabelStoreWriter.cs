using System.Runtime.InteropServices;
using System.Text;
using Reproduce.Torch;

namespace Reproduce.Vision.Data.TokenLabels;

/// <summary>
/// Writes a token-label store (<see cref="TokenLabelStoreFormat"/>): records stream to a temporary
/// file beside the target; <see cref="Complete"/> appends the index, writes the header, flushes and
/// renames it into place. Disposing without completing deletes the temporary file, leaving any
/// existing store untouched. Not thread-safe: one writer per store.
/// </summary>
public sealed class TokenLabelStoreWriter : IDisposable
{
    private readonly string _path;
    private readonly string _tempPath;
    private readonly FileStream _stream;
    private readonly List<string> _keys = [];
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private bool _done;

    /// <summary>Starts a store of k×h×w maps over <paramref name="numClasses"/> classes at <paramref name="path"/>.</summary>
    public TokenLabelStoreWriter(string path, int topK, int height, int width, int numClasses)
    {
        Format = new TokenLabelStoreFormat(topK, height, width, numClasses);
        Format.Validate($"TokenLabelStoreWriter({path})");
        _path = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(_path)!;
        Directory.CreateDirectory(dir);
        _tempPath = Path.Combine(dir, $".{Path.GetFileName(_path)}.{Guid.NewGuid():N}.tmp");
        _stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        _stream.Write(new byte[TokenLabelStoreFormat.HeaderSize]); // the header is written last
    }

    /// <summary>Dimensions of every record.</summary>
    public TokenLabelStoreFormat Format { get; }

    /// <summary>Records written so far.</summary>
    public int Count => _keys.Count;

    /// <summary>
    /// Appends one image's map: <paramref name="values"/> [k,h,w] raw scores (stored as fp16) and
    /// <paramref name="indices"/> [k,h,w] class indices. Keys must be unique and at most 65535 UTF-8 bytes.
    /// </summary>
    public void Add(string key, Tensor values, Tensor indices)
    {
        if (_done) throw new InvalidOperationException($"TokenLabelStoreWriter({_path}): already completed");
        var want = new long[] { Format.TopK, Format.Height, Format.Width };
        if (!values.Shape.SequenceEqual(want) || !indices.Shape.SequenceEqual(want))
            throw new ArgumentException($"TokenLabelStoreWriter({_path}): record '{key}' has values {values.Describe()} and indices {indices.Describe()}, expected [{string.Join(",", want)}]");
        if (Encoding.UTF8.GetByteCount(key) > ushort.MaxValue) throw new ArgumentException($"TokenLabelStoreWriter({_path}): key '{key[..40]}…' is longer than 65535 bytes");
        if (!_seen.Add(key)) throw new ArgumentException($"TokenLabelStoreWriter({_path}): duplicate key '{key}'");
        Half[] v;
        int[] idx;
        using (Scope.Enter())
        {
            v = values.Detach().To(ScalarType.Float16).Contiguous().ToArray<Half>();
            idx = indices.Detach().To(ScalarType.Int32).Contiguous().ToArray<int>();
        }
        var u = new ushort[idx.Length];
        for (var i = 0; i < idx.Length; i++)
        {
            if ((uint)idx[i] >= (uint)Format.NumClasses)
            {
                _seen.Remove(key);
                throw new ArgumentException($"TokenLabelStoreWriter({_path}): record '{key}' has class index {idx[i]} outside 0..{Format.NumClasses - 1}");
            }
            u[i] = (ushort)idx[i];
        }
        _stream.Write(MemoryMarshal.AsBytes(v.AsSpan()));
        _stream.Write(MemoryMarshal.AsBytes(u.AsSpan()));
        _keys.Add(key);
    }

    /// <summary>
    /// Appends the top-k of dense annotator scores <paramref name="scores"/> [C,h,w] (C = the store's
    /// class count), as generate_label.py keeps them.
    /// </summary>
    public void AddScores(string key, Tensor scores)
    {
        if (scores.Dim != 3 || scores.Size(0) != Format.NumClasses)
            throw new ArgumentException($"TokenLabelStoreWriter({_path}): scores for '{key}' must be [{Format.NumClasses},h,w], got {scores.Describe()}");
        using var s = Scope.Enter();
        var (values, indices) = scores.Detach().TopK(Format.TopK, dim: 0);
        Add(key, values, indices);
    }

    /// <summary>Writes the index and header, flushes to disk and renames the file into place.</summary>
    public void Complete()
    {
        if (_done) throw new InvalidOperationException($"TokenLabelStoreWriter({_path}): already completed");
        var index = TokenLabelStoreFormat.EncodeIndex(_keys);
        _stream.Write(index);
        _stream.Position = 0;
        _stream.Write(Format.Header(_keys.Count, index.Length));
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_tempPath, _path, overwrite: true);
        _done = true;
    }

    /// <summary>Closes the writer; without <see cref="Complete"/> the partial file is deleted.</summary>
    public void Dispose()
    {
        if (_done) return;
        _done = true;
        _stream.Dispose();
        try { File.Delete(_tempPath); }
        catch (IOException) { /* best effort: a stray temporary file never shadows the store */ }
    }
}
