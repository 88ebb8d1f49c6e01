namespace Reproduce.Training.Scoring;

/// <summary>
/// Saved predictions or ground truth that cannot be scored: a missing or extra file, a size or channel mismatch,
/// an unreadable PNG. The message names the file.
/// </summary>
public sealed class ScoringException : Exception
{
    /// <summary>An error with the given message.</summary>
    public ScoringException(string message) : base(message) { }

    /// <summary>An error with the given message and cause.</summary>
    public ScoringException(string message, Exception inner) : base(message, inner) { }
}
