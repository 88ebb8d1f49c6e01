using Reproduce.Torch.Native;
using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Distributed;

/// <summary>
/// DistributedDataParallel's gradient reduction: the parameters in buckets of about <c>capBytes</c> in reverse
/// registration order; during backward a hook on each parameter's gradient accumulator marks it ready, and a full
/// bucket is flattened, divided by W and all-reduced at once, so communication overlaps the rest of backward.
/// After backward <see cref="Finish"/> waits and writes ḡ = (1/W) Σᵣ gᵣ into every <c>.grad</c>. With
/// <see cref="Sync"/> off (accumulation micro-steps, DDP's <c>no_sync</c>) backward only accumulates locally.
/// </summary>
public sealed class GradientBuckets : IDisposable
{
    /// <summary>DDP's default bucket cap (bucket_cap_mb = 25).</summary>
    public const long DefaultCapBytes = 25L * 1024 * 1024;

    private IntPtr _handle;
    private bool _sync = true;

    /// <summary>Hooks the parameters of <paramref name="parameters"/> that require grad.</summary>
    public unsafe GradientBuckets(ProcessGroup group, IEnumerable<Parameter> parameters, long capBytes = DefaultCapBytes)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(parameters);
        var handles = parameters.Where(p => p.RequiresGrad).Select(p => p.Handle).ToArray();
        fixed (IntPtr* ph = handles)
            NativeMethods.Check(NativeMethods.rn_ddp_create(group.Handle, ph, handles.Length, capBytes, out _handle), "GradientBuckets");
    }

    /// <summary>Whether the next backward all-reduces (true) or only accumulates (false).</summary>
    public bool Sync
    {
        get => _sync;
        set
        {
            NativeMethods.Check(NativeMethods.rn_ddp_set_sync(Handle, value ? 1 : 0), "GradientBuckets.Sync");
            _sync = value;
        }
    }

    /// <summary>After a synchronised backward: waits for every bucket and writes the averaged gradients.</summary>
    public void Finish() => NativeMethods.Check(NativeMethods.rn_ddp_finish(Handle), "GradientBuckets.Finish");

    /// <summary>Buckets issued from hooks during the last synchronised backward, and the bucket count.</summary>
    public (int IssuedDuringBackward, int Buckets) LastOverlap
    {
        get
        {
            NativeMethods.Check(NativeMethods.rn_ddp_issued(Handle, out var issued, out var buckets), "GradientBuckets.LastOverlap");
            return (issued, buckets);
        }
    }

    private IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(GradientBuckets));

    /// <inheritdoc/>
    public void Dispose()
    {
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h != IntPtr.Zero) NativeMethods.rn_ddp_free(h);
    }
}
