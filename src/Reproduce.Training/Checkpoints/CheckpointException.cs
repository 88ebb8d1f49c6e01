namespace Reproduce.Training.Checkpoints;

/// <summary>
/// A checkpoint cannot be written, read or restored: missing or corrupt files, or state that does not fit the
/// model / EMA / optimizer / generators it is restored into (the message names the key and both shapes).
/// Restoring validates everything first, so when this is thrown nothing has been modified.
/// </summary>
public sealed class CheckpointException(string message, Exception? inner = null) : Exception(message, inner);
