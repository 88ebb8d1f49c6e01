namespace Reproduce.Training.Config;

/// <summary>
/// A configuration could not be loaded: unknown key, wrong type, invalid value, or unreadable file. The message
/// names the source (file or override), the dotted key and, for unknown keys, the valid keys at that level.
/// </summary>
public sealed class ConfigException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The full message.</param>
    /// <param name="key">Dotted key concerned, if any (e.g. <c>optim.lr</c>).</param>
    /// <param name="origin">File path or override text the value came from, if any.</param>
    /// <param name="inner">Underlying exception, if any.</param>
    public ConfigException(string message, string? key = null, string? origin = null, Exception? inner = null) : base(message, inner)
    {
        Key = key;
        Origin = origin;
    }

    /// <summary>Dotted key concerned (null when the problem is not tied to one key).</summary>
    public string? Key { get; }

    /// <summary>File path or override text the bad value came from (null for built-in defaults).</summary>
    public string? Origin { get; }
}
