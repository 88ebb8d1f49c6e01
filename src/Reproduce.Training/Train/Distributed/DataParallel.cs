using System.Globalization;
using Reproduce.Torch;
using Reproduce.Torch.Distributed;
using Reproduce.Torch.Nn;

namespace Reproduce.Training.Train.Distributed;

/// <summary>
/// This process's place in a data-parallel job (PyTorch DDP semantics over c10d): one process per rank, each with
/// the full model; rank 0's parameters and buffers are broadcast at start; gradients are averaged in buckets during
/// backward (<see cref="GradientBuckets"/>); every rank reads its own shard of each epoch (DistributedSampler order)
/// with <c>data.batch_size</c> images per process, so a step sees W × batch_size images. Rank 0 alone writes.
/// <para>
/// The group is joined once per process from the torchrun / SLURM variables (<see cref="DistEnvironment"/>); a
/// process without them, or with a world size of 1, runs alone (<see cref="Current"/> is null). The timeout of the
/// rendezvous and of every collective is <c>REPRODUCE_DIST_TIMEOUT</c> seconds (default 600).
/// </para>
/// </summary>
public sealed class DataParallel
{
    private static readonly Lazy<DataParallel?> Joined = new(Join, LazyThreadSafetyMode.ExecutionAndPublication);

    private DataParallel(ProcessGroup group) => Group = group;

    /// <summary>The job this process belongs to, joined on first use; null when it runs alone.</summary>
    public static DataParallel? Current => Joined.Value;

    /// <summary>The c10d group (Gloo on the CPU, NCCL on CUDA devices when built with it).</summary>
    public ProcessGroup Group { get; }

    /// <summary>This process's rank.</summary>
    public int Rank => Group.Rank;

    /// <summary>Number of processes.</summary>
    public int WorldSize => Group.WorldSize;

    /// <summary>Rank 0: the one process that writes config, metrics, checkpoints and progress.</summary>
    public bool IsMain => Group.Rank == 0;

    /// <summary>The collective timeout: <c>REPRODUCE_DIST_TIMEOUT</c> seconds, default 600.</summary>
    public static TimeSpan Timeout
    {
        get
        {
            var text = Environment.GetEnvironmentVariable("REPRODUCE_DIST_TIMEOUT");
            if (string.IsNullOrEmpty(text)) return TimeSpan.FromSeconds(600);
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0
                ? TimeSpan.FromSeconds(s)
                : throw new ArgumentException($"REPRODUCE_DIST_TIMEOUT='{text}' is not a positive number of seconds");
        }
    }

    private static DataParallel? Join()
    {
        var env = DistEnvironment.Current;
        if (env is null || env.WorldSize == 1) return null;
        if (ProcessGroup.UnavailableReason is { } why) throw new InvalidOperationException($"{env.Source} started rank {env.Rank} of {env.WorldSize}, but {why}");
        var backend = Environment.GetEnvironmentVariable("REPRODUCE_DIST_BACKEND") ?? "gloo";
        return new DataParallel(ProcessGroup.Init(env, Timeout, backend));
    }

    /// <summary>The device of this rank: plain <c>cuda</c> becomes <c>cuda:LOCAL_RANK</c> (one GPU per process); anything else is kept.</summary>
    public string DeviceFor(string device) => device == "cuda" ? $"cuda:{Group.Environment.LocalRank}" : device;

    /// <summary>Copies rank 0's parameters and buffers into every rank's model (DDP's start-up broadcast).</summary>
    public void BroadcastFromMain(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tensors = model.NamedParameters().Select(p => (Tensor)p.Parameter).Concat(model.NamedBuffers().Select(b => b.Buffer));
        using var scope = Scope.Enter();
        using var noGrad = Torch.Torch.NoGrad();
        foreach (var t in tensors)
        {
            using var work = Group.Broadcast(t, 0);
            work.Wait();
        }
    }

    /// <summary>
    /// Copies rank 0's buffers (BatchNorm running statistics) into every rank's model, as DDP's broadcast_buffers does,
    /// so that evaluation shards are scored by one model.
    /// </summary>
    public void BroadcastBuffers(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = Scope.Enter();
        using var noGrad = Torch.Torch.NoGrad();
        foreach (var (_, b) in model.NamedBuffers())
        {
            using var work = Group.Broadcast(b, 0);
            work.Wait();
        }
    }

    /// <summary>The mean over ranks of one number per rank (logged losses).</summary>
    public double Average(double value)
    {
        using var scope = Scope.Enter();
        var t = Tensor.From(new[] { value });
        using (var work = Group.AllReduce(t, ReduceOp.Average)) work.Wait();
        return t.ToDouble();
    }

    /// <summary>Element-wise sums over ranks (exact for counts).</summary>
    public long[] Sum(long[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        using var scope = Scope.Enter();
        var t = Tensor.From(values);
        using (var work = Group.AllReduce(t, ReduceOp.Sum)) work.Wait();
        return t.ToArray<long>();
    }

    /// <summary>Element-wise sums over ranks in float64 (metric totals).</summary>
    public double[] Sum(double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        using var scope = Scope.Enter();
        var t = Tensor.From(values);
        using (var work = Group.AllReduce(t, ReduceOp.Sum)) work.Wait();
        return t.ToArray<double>();
    }

    /// <summary>Runs <paramref name="action"/> on rank 0 first, then (after a barrier) on the others, e.g. creating a run directory.</summary>
    public T MainFirst<T>(Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (IsMain)
        {
            var result = action();
            Group.Barrier();
            return result;
        }
        Group.Barrier();
        return action();
    }
}
