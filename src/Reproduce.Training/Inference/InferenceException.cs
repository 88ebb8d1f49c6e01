namespace Reproduce.Training.Inference;

/// <summary>Bad input to <see cref="ModelInference"/>: a missing tensor, a wrong rank or dtype, incompatible weights. The message names the file and key.</summary>
public sealed class InferenceException : Exception
{
    /// <summary>An error with the given message.</summary>
    public InferenceException(string message) : base(message) { }

    /// <summary>An error with the given message and cause.</summary>
    public InferenceException(string message, Exception inner) : base(message, inner) { }
}
