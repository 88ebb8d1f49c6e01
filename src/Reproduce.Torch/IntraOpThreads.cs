namespace Reproduce.Torch;

/// <summary>
/// Lowers the calling thread's libtorch intra-op thread count (<see cref="Torch.NumThreads"/>, which OpenMP keeps per
/// thread; OpenBLAS's pool follows it) for a block and restores the previous count when disposed. For work made of
/// many small ops, such as per-crop augmentation, where splitting each op over threads costs more than it saves.
/// </summary>
public sealed class IntraOpThreads : IDisposable
{
    private readonly int _previous;
    private bool _disposed;

    private IntraOpThreads(int previous) => _previous = previous;

    /// <summary>At most <paramref name="threads"/> intra-op threads until disposed (a higher limit leaves the count as it is).</summary>
    public static IntraOpThreads AtMost(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        var previous = Torch.NumThreads;
        if (threads < previous) Torch.NumThreads = threads;
        return new IntraOpThreads(previous);
    }

    /// <summary>The count before the limit.</summary>
    public int Previous => _previous;

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (Torch.NumThreads != _previous) Torch.NumThreads = _previous;
    }
}
