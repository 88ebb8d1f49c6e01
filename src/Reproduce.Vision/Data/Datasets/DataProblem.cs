namespace Reproduce.Vision.Data.Datasets;

/// <summary>One problem found in a dataset tree: the file, the line for split/list files (0 otherwise), and what is wrong.</summary>
/// <param name="Path">The file (or folder) the problem is about.</param>
/// <param name="Message">What is wrong, e.g. "truncated JPEG: Premature end of JPEG file".</param>
/// <param name="Line">1-based line in <paramref name="Path"/> for text files; 0 when not applicable.</param>
public sealed record DataProblem(string Path, string Message, int Line = 0)
{
    /// <summary><c>path:line: message</c> (or <c>path: message</c>).</summary>
    public override string ToString() => Line > 0 ? $"{Path}:{Line}: {Message}" : $"{Path}: {Message}";

    /// <summary>The problem described by a reader's exception (whose message already starts with the path).</summary>
    internal static DataProblem FromException(string path, Exception e)
    {
        var msg = e.Message;
        var prefix = path + ": ";
        return new DataProblem(path, msg.StartsWith(prefix, StringComparison.Ordinal) ? msg[prefix.Length..] : msg);
    }
}
