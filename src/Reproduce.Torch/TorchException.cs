namespace Reproduce.Torch;

/// <summary>An error reported by libtorch or by the binding, with the op and shapes involved.</summary>
public sealed class TorchException(string message) : Exception(message);
