using Reproduce.Torch.Distributed;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Data.Loading;

namespace Reproduce.Training.Train.Distributed;

/// <summary>
/// The trainer's side of DDP for one run: the start-up broadcast, the gradient buckets, the sampler shard, the
/// global sample numbering and what a resume under another world size changes. Equivalence with one process at
/// W × <c>data.batch_size</c>: rank r's slot j of a step is slot j·W + r of the single-process batch (same image,
/// same augmentation seed), and the averaged gradient is the single-process mean up to float rounding.
/// </summary>
public sealed class DataParallelTraining : IDisposable
{
    private readonly GradientBuckets _buckets;

    private DataParallelTraining(DataParallel dp, GradientBuckets buckets) => (Dp, _buckets) = (dp, buckets);

    /// <summary>The job.</summary>
    public DataParallel Dp { get; }

    /// <summary>This rank.</summary>
    public int Rank => Dp.Rank;

    /// <summary>Number of ranks.</summary>
    public int WorldSize => Dp.WorldSize;

    /// <summary>Rank 0 writes; the others only compute.</summary>
    public bool IsMain => Dp.IsMain;

    /// <summary>
    /// Null when <paramref name="dp"/> is; otherwise rank 0's weights in every rank's model, its BatchNorm layers
    /// synchronised over the ranks (<see cref="SyncBatchNorm"/>, as torch's convert_sync_batchnorm), and the gradient
    /// hooks installed.
    /// </summary>
    public static DataParallelTraining? Start(DataParallel? dp, Module model) => Start(dp, [model]);

    /// <summary>
    /// As <see cref="Start(DataParallel?, Module)"/> for several trained modules (a probe's head and its fine-tuned
    /// backbone): one set of buckets over all their parameters.
    /// </summary>
    public static DataParallelTraining? Start(DataParallel? dp, IReadOnlyList<Module> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (dp is null) return null;
        foreach (var model in models)
        {
            ArgumentNullException.ThrowIfNull(model);
            dp.BroadcastFromMain(model);
            SyncBatchNorm.Convert(model, dp.Group);
        }
        return new DataParallelTraining(dp, new GradientBuckets(dp.Group, models.SelectMany(m => m.Parameters())));
    }

    /// <summary>The options of ranks other than 0: no progress and no messages (rank 0 speaks for the job).</summary>
    public static TrainOptions Quiet(TrainOptions options, DataParallel? dp) =>
        dp is null || dp.IsMain ? options : options with { OnProgress = null, OnMessage = null };

    /// <summary>The loader options sharded as DistributedSampler (padded to a multiple of W; rank r takes r, r + W, …).</summary>
    public LoaderOptions Shard(LoaderOptions options) => options with { Rank = Rank, WorldSize = WorldSize, DropUnevenShard = false };

    /// <summary>Samples per rank and epoch: ⌈N / W⌉.</summary>
    public int ShardCount(int count) => (count + WorldSize - 1) / WorldSize;

    /// <summary>Slot <paramref name="k"/> of this rank's micro-batch as a slot of the W-times-larger single-process batch.</summary>
    public int GlobalSlot(int k) => k * WorldSize + Rank;

    /// <summary>Call before backward: only the last micro-step of an update all-reduces (DDP's no_sync on the others).</summary>
    public void BeforeBackward(bool lastMicroStep)
    {
        if (_buckets.Sync != lastMicroStep) _buckets.Sync = lastMicroStep;
    }

    /// <summary>Call after backward: on the last micro-step, waits for the buckets and leaves the averaged gradients.</summary>
    public void AfterBackward(bool lastMicroStep)
    {
        if (lastMicroStep) _buckets.Finish();
    }

    /// <summary>The buckets (for tests of the overlap).</summary>
    public GradientBuckets Buckets => _buckets;

    /// <summary>The checkpoint entry recording the world size (written only when W > 1, so single-process checkpoints are unchanged).</summary>
    public static void Record(Dictionary<string, long[]> longs, DataParallelTraining? ddp)
    {
        ArgumentNullException.ThrowIfNull(longs);
        if (ddp is not null) longs["world_size"] = [ddp.WorldSize];
    }

    /// <summary>
    /// The sampler position to continue from when a checkpoint written at world size W₀ resumes at W: the epoch is
    /// kept, and the images already consumed in it (position·W₀·B·accumulation) map to ⌊position·W₀ / W⌋ updates, so
    /// the data order differs from an uninterrupted W-rank run from there on; <paramref name="message"/> says so.
    /// </summary>
    public static (long Epoch, long Position) Resume(IReadOnlyDictionary<string, long[]> longs, int worldSize, out string? message)
    {
        ArgumentNullException.ThrowIfNull(longs);
        var (epoch, position) = (longs["sampler"][0], longs["sampler"][1]);
        var saved = longs.TryGetValue("world_size", out var w) ? (int)w[0] : 1;
        var now = worldSize;
        message = null;
        if (saved == now) return (epoch, position);
        var mapped = position * saved / now;
        message = $"checkpoint written by {saved} process(es), resumed by {now}: the global batch changes from {saved}× to {now}× data.batch_size per update, "
            + $"epoch {epoch}'s position moves from update {position} to {mapped}, and the data order (hence the result) differs from an uninterrupted run; the step count and learning-rate schedule continue";
        return (epoch, mapped);
    }

    /// <inheritdoc/>
    public void Dispose() => _buckets.Dispose();
}
