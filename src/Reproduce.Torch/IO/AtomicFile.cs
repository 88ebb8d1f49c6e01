using System.Text;

namespace Reproduce.Torch.IO;

/// <summary>
/// Whole-file writes that never leave a half-written file behind: the bytes go to a temporary file in the same
/// directory (<c>.&lt;name&gt;.&lt;guid&gt;.tmp</c>), are flushed to disk, and the temporary file then replaces the
/// target by rename (atomic on POSIX file systems). On any failure the temporary file is removed and an existing
/// target is left exactly as it was.
/// </summary>
public static class AtomicFile
{
    /// <summary>Test hook (this thread only): called with the target path after the temporary file is complete, just before the rename.</summary>
    [ThreadStatic] internal static Action<string>? BeforeRename;

    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="path"/> atomically. A missing directory (unless
    /// <paramref name="createDirectory"/>) or a permission problem is reported as an <see cref="IOException"/>
    /// naming the target.
    /// </summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes, bool createDirectory = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full) ?? ".";
        if (createDirectory) Directory.CreateDirectory(dir);
        var tmp = TempPathFor(full);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            BeforeRename?.Invoke(full);
            File.Move(tmp, full, overwrite: true);
        }
        catch (DirectoryNotFoundException e)
        {
            TryDelete(tmp);
            throw new IOException($"cannot write '{full}': the directory '{dir}' does not exist", e);
        }
        catch (UnauthorizedAccessException e)
        {
            TryDelete(tmp);
            throw new IOException($"cannot write '{full}': permission denied ({e.Message})", e);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>Writes UTF-8 text (no byte-order mark) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text, bool createDirectory = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text), createDirectory);
    }

    /// <summary>A fresh temporary name beside <paramref name="fullPath"/> (hidden, ends in <c>.tmp</c>).</summary>
    public static string TempPathFor(string fullPath) =>
        Path.Combine(Path.GetDirectoryName(fullPath) ?? ".", $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");

    /// <summary>True for names made by <see cref="TempPathFor"/> (leftovers of a crash, safe to delete).</summary>
    public static bool IsTempName(string fileName) => fileName.StartsWith('.') && fileName.EndsWith(".tmp", StringComparison.Ordinal);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
