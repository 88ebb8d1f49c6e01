namespace Reproduce.Training.Annotation;

/// <summary>Bad input to <see cref="Annotator"/>: a model without dense score maps, bad options, an unreadable dataset. The message names the model, option or file.</summary>
public sealed class AnnotationException : Exception
{
    /// <summary>An error with the given message.</summary>
    public AnnotationException(string message) : base(message) { }

    /// <summary>An error with the given message and cause.</summary>
    public AnnotationException(string message, Exception inner) : base(message, inner) { }
}
