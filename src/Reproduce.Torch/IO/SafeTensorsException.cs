namespace Reproduce.Torch.IO;

/// <summary>
/// A safetensors file (or buffer) that breaks the format, or a write that could not be completed.
/// The message always names the source (the file path, or the name given for a stream/buffer) and,
/// where one is involved, the tensor key and the offending offsets or lengths.
/// </summary>
public sealed class SafeTensorsException : Exception
{
    /// <summary>Creates the exception; <paramref name="source"/> and <paramref name="key"/> prefix the message.</summary>
    public SafeTensorsException(string source, string? key, string message, Exception? inner = null)
        : base(Format(source, key, message), inner)
    {
        FilePath = source;
        Key = key;
    }

    /// <summary>The file path, or the name given to a stream or byte buffer.</summary>
    public string FilePath { get; }

    /// <summary>The tensor key (or <c>__metadata__</c>) the problem concerns, when it concerns one.</summary>
    public string? Key { get; }

    private static string Format(string source, string? key, string message) =>
        key is null ? $"safetensors '{source}': {message}" : $"safetensors '{source}', key '{key}': {message}";
}
