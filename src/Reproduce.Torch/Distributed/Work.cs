using Reproduce.Torch.Native;

namespace Reproduce.Torch.Distributed;

/// <summary>
/// An issued collective (c10d's Work): it runs on the backend's threads while the caller goes on;
/// <see cref="Wait"/> blocks until it completes (its result is then in the tensor), or throws a
/// <see cref="TorchException"/> naming the rank and the collective when it fails or passes the group's timeout.
/// </summary>
public sealed class Work : IDisposable
{
    private IntPtr _handle;
    private readonly Tensor? _result;

    internal Work(IntPtr handle, Tensor? result = null) => (_handle, _result) = (handle, result);

    /// <summary>Waits for completion; returns the collective's result tensor where it has one (all-gather).</summary>
    public Tensor? Wait()
    {
        if (_handle == IntPtr.Zero) throw new ObjectDisposedException(nameof(Work));
        if (NativeMethods.rn_dist_wait(_handle) != NativeMethods.Ok) throw new TorchException(NativeMethods.LastError());
        return _result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h != IntPtr.Zero) NativeMethods.rn_dist_op_free(h);
    }
}
