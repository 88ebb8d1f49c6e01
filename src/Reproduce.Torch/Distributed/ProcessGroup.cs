using Reproduce.Torch.Native;

namespace Reproduce.Torch.Distributed;

/// <summary>
/// A c10d process group (torch.distributed's default group): every rank joins the rendezvous store at
/// <c>MASTER_ADDR:MASTER_PORT</c> (rank 0 hosts it unless an agent does) and the backend connects all ranks.
/// Gloo always (CPU tensors); NCCL where the native layer was built against a CUDA libtorch. Collectives are
/// issued asynchronously (<see cref="Work"/>); every wait and the rendezvous itself are bounded by the timeout,
/// and their errors name the rank and the collective.
/// </summary>
public sealed class ProcessGroup : IDisposable
{
    private IntPtr _handle;

    private ProcessGroup(IntPtr handle, DistEnvironment env, string backend, TimeSpan timeout) =>
        (_handle, Environment, Backend, Timeout) = (handle, env, backend, timeout);

    /// <summary>Where this process sits in the job.</summary>
    public DistEnvironment Environment { get; }

    /// <summary>"gloo" or "nccl".</summary>
    public string Backend { get; }

    /// <summary>Bound on the rendezvous and on every wait.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>This process's rank, 0 … <see cref="WorldSize"/> − 1.</summary>
    public int Rank => Environment.Rank;

    /// <summary>Number of processes in the group.</summary>
    public int WorldSize => Environment.WorldSize;

    /// <summary>Null when this build can create Gloo groups; otherwise why it cannot (libgloo-dev missing at build time).</summary>
    public static string? UnavailableReason
    {
        get
        {
            NativeMethods.EnsureLoaded();
            return (NativeMethods.rn_dist_backends() & 1) != 0 ? null
                : "this reproduce_native was built without c10d/Gloo (libgloo-dev was not installed when it was built), so it runs single-process only; install libgloo-dev and rebuild (dotnet fsi build.fsx native)";
        }
    }

    /// <summary>True when this build can create NCCL groups (a CUDA libtorch and nccl.h at build time).</summary>
    public static bool HasNccl
    {
        get
        {
            NativeMethods.EnsureLoaded();
            return (NativeMethods.rn_dist_backends() & 2) != 0;
        }
    }

    /// <summary>Joins the group described by <paramref name="env"/>; blocks until every rank has joined or the timeout passes.</summary>
    public static ProcessGroup Init(DistEnvironment env, TimeSpan timeout, string backend = "gloo")
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(backend);
        NativeMethods.EnsureLoaded();
        var status = NativeMethods.rn_dist_init(env.MasterAddr, env.MasterPort, env.Rank, env.WorldSize, env.StoreClientOnly ? 1 : 0,
            backend, (long)timeout.TotalMilliseconds, out var h);
        if (status != NativeMethods.Ok) throw new TorchException(NativeMethods.LastError());
        return new ProcessGroup(h, env, backend, timeout);
    }

    /// <summary>Starts an all-reduce of <paramref name="tensor"/> in place (contiguous, same shape on every rank).</summary>
    public Work AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return Issue(NativeMethods.rn_dist_allreduce(Handle, tensor.Handle, (int)op, out var w), w);
    }

    /// <summary>
    /// The sum over ranks of <paramref name="tensor"/> as a new tensor in the autograd graph, blocking: its gradient is
    /// the sum over ranks of the output's gradient (the all-reduce that SyncBatchNorm needs in forward and backward).
    /// Every rank must call it, and run the matching backward, in the same order.
    /// </summary>
    public Tensor SumOverRanks(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var status = NativeMethods.rn_dist_allreduce_autograd(Handle, tensor.Handle, out var result);
        if (status != NativeMethods.Ok) throw new TorchException(NativeMethods.LastError());
        return new Tensor(result, "ProcessGroup.SumOverRanks");
    }

    /// <summary>Starts a broadcast of <paramref name="tensor"/> from <paramref name="root"/> into every rank's tensor.</summary>
    public Work Broadcast(Tensor tensor, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return Issue(NativeMethods.rn_dist_broadcast(Handle, tensor.Handle, root, out var w), w);
    }

    /// <summary>Starts an all-gather; <see cref="Work.Wait"/> returns the ranks' tensors stacked, [W, ...shape].</summary>
    public Work AllGather(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var status = NativeMethods.rn_dist_allgather(Handle, tensor.Handle, out var result, out var w);
        if (status != NativeMethods.Ok) throw new TorchException(NativeMethods.LastError());
        return new Work(w, new Tensor(result, "ProcessGroup.AllGather"));
    }

    /// <summary>Blocks until every rank has reached the barrier.</summary>
    public void Barrier()
    {
        using var w = Issue(NativeMethods.rn_dist_barrier(Handle, out var h), h);
        w.Wait();
    }

    internal IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(ProcessGroup));

    private static Work Issue(int status, IntPtr work) =>
        status == NativeMethods.Ok ? new Work(work) : throw new TorchException(NativeMethods.LastError());

    /// <inheritdoc/>
    public void Dispose()
    {
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h != IntPtr.Zero) NativeMethods.rn_dist_free(h);
    }
}
