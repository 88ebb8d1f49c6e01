using System.Text;
using Reproduce.Torch.Native;

namespace Reproduce.Torch.IO;

/// <summary>One value of a <c>torch.save</c> file: where it sits and what it is.</summary>
/// <param name="Path">Keys from the root: dict keys as they are (integer keys as decimal text), sequence positions as <c>[i]</c>.</param>
/// <param name="Description"><c>tensor</c>, or a short description of another value (<c>int 3</c>, <c>str deit</c>,
/// <c>object argparse.Namespace</c>, <c>dict (empty)</c>, …).</param>
/// <param name="Tensor">The tensor (contiguous, on the CPU), or null for any other value.</param>
public sealed record TorchCheckpointEntry(IReadOnlyList<string> Path, string Description, Tensor? Tensor)
{
    /// <summary>The path joined with <c>/</c>, for messages.</summary>
    public string PathText => string.Join('/', Path);
}

/// <summary>
/// A <c>torch.save</c> file (the zip format PyTorch writes since 1.6) read through libtorch's own unpickler, never
/// through Python, as a flat list of entries: every tensor and every other leaf value with its path of keys. Dicts and
/// <c>collections.OrderedDict</c> (every <c>state_dict</c>) keep their keys; other Python classes (<c>argparse.Namespace</c>
/// in DeiT's and TokenLabeling's <c>args</c>, numpy scalars) cannot be rebuilt without Python and become opaque
/// <c>object</c> leaves named by their class, so loading never fails on them. The pickle is checked before libtorch
/// reads it and every tensor is checked to lie inside its data record, so a corrupt or hostile file gives an
/// <see cref="InvalidDataException"/> naming the file, never a crash. The legacy format (PyTorch &lt; 1.6) is refused with
/// how to convert it.
/// </summary>
public sealed class TorchCheckpoint : IDisposable
{
    private TorchCheckpoint(string source, IReadOnlyList<TorchCheckpointEntry> entries)
    {
        Source = source;
        Entries = entries;
    }

    /// <summary>The file (or the name given for bytes).</summary>
    public string Source { get; }

    /// <summary>Every leaf value in pickle order.</summary>
    public IReadOnlyList<TorchCheckpointEntry> Entries { get; }

    /// <summary>Whether <paramref name="bytes"/> start like a zip archive (<c>PK</c>) or a legacy torch.save pickle.</summary>
    public static bool LooksLikeTorchSave(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 2 && ((bytes[0] == (byte)'P' && bytes[1] == (byte)'K') || bytes[0] == 0x80);

    /// <summary>Reads the <c>torch.save</c> file at <paramref name="path"/>.</summary>
    public static TorchCheckpoint Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException e) { throw new FileNotFoundException($"torch.save file '{path}' does not exist", path, e); }
        return Read(bytes, path);
    }

    /// <summary>Reads a <c>torch.save</c> payload; <paramref name="source"/> names it in errors.</summary>
    public static unsafe TorchCheckpoint Read(ReadOnlySpan<byte> bytes, string source)
    {
        NativeMethods.EnsureLoaded();
        IntPtr doc;
        int status, count;
        long textLen;
        fixed (byte* p = bytes)
            status = NativeMethods.rn_checkpoint_load(p, bytes.Length, out doc, out count, out textLen);
        if (status != NativeMethods.Ok) throw new InvalidDataException($"{source}: cannot read it as a torch.save file: {NativeMethods.LastError()}");
        try
        {
            var text = new byte[textLen];
            var handles = new IntPtr[count];
            fixed (byte* t = text)
                Check(NativeMethods.rn_checkpoint_text(doc, t, text.Length), source);
            fixed (IntPtr* h = handles)
                Check(NativeMethods.rn_checkpoint_tensors(doc, h, handles.Length), source);
            var records = Encoding.UTF8.GetString(text).Split('\x1e', StringSplitOptions.None);
            var entries = new List<TorchCheckpointEntry>(count);
            for (var i = 0; i < count; i++)
            {
                var parts = records[i].Split('\x1d', 2);
                var path = parts[0].Length == 0 ? [] : parts[0].Split('\x1f').Select(Component).ToArray();
                var tensor = handles[i] == IntPtr.Zero ? null : new Tensor(handles[i], "TorchCheckpoint.Read");
                entries.Add(new TorchCheckpointEntry(path, parts.Length > 1 ? parts[1] : "", tensor));
            }
            return new TorchCheckpoint(source, entries);
        }
        finally
        {
            _ = NativeMethods.rn_checkpoint_free(doc);
        }
    }

    private static void Check(int status, string source)
    {
        if (status != NativeMethods.Ok) throw new InvalidDataException($"{source}: {NativeMethods.LastError()}");
    }

    // Native components: 'k' + dict key, 'i' + integer dict key, '#' + sequence index.
    private static string Component(string c) => c.Length == 0 ? c : c[0] switch
    {
        '#' => $"[{c[1..]}]",
        _ => c[1..],
    };

    /// <summary>Disposes every tensor.</summary>
    public void Dispose()
    {
        foreach (var e in Entries) e.Tensor?.Dispose();
    }
}
