using Reproduce.Torch;

namespace Reproduce.Vision.Data.Loading;

/// <summary>Thrown when loading or collating a batch failed; names the epoch, batch and dataset indices.</summary>
public sealed class DataLoaderException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Multi-threaded batch loader. <see cref="LoaderOptions.Workers"/> threads build whole batches:
/// each sample is loaded by <c>load(index, rng)</c> with an RNG seeded by (seed, epoch, position), then
/// the batch is collated. Batches are delivered in order through a bounded queue of
/// <see cref="LoaderOptions.Prefetch"/> batches, so results never depend on thread timing or on the
/// number of workers (<see cref="OrderedPrefetch{T}"/>). Each batch is built inside a tensor scope on its worker thread; the collated
/// tensors are detached from it and owned by the consumer, who disposes each batch. Leaving the
/// enumeration early (break, exception, cancellation) stops the workers and frees every batch not
/// handed out.
/// </summary>
/// <typeparam name="TSample">What <c>load</c> returns (e.g. a transformed sample).</typeparam>
/// <typeparam name="TBatch">The collated batch.</typeparam>
public sealed class DataLoader<TSample, TBatch> where TBatch : ITensorBatch
{
    private readonly int _count;
    private readonly Func<int, Random, TSample> _load;
    private readonly Func<IReadOnlyList<TSample>, BatchInfo, TBatch> _collate;

    /// <summary>A loader over <paramref name="count"/> samples.</summary>
    public DataLoader(int count, Func<int, Random, TSample> load, Func<IReadOnlyList<TSample>, BatchInfo, TBatch> collate, LoaderOptions options)
    {
        Options = options.Validate();
        _count = count;
        _load = load;
        _collate = collate;
    }

    /// <summary>The settings.</summary>
    public LoaderOptions Options { get; }

    /// <summary>The batch plan of <paramref name="epoch"/> for this rank.</summary>
    public EpochPlan Plan(int epoch) => EpochPlan.Create(_count, epoch, Options);

    /// <summary>The batches of <paramref name="epoch"/> in order; dispose each one after use.</summary>
    public IEnumerable<TBatch> Epoch(int epoch, CancellationToken cancellation = default)
    {
        var plan = Plan(epoch);
        if (Options.Workers == 0)
        {
            for (var i = 0; i < plan.Batches.Count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                yield return Build(plan, epoch, i);
            }
            yield break;
        }
        using var run = new OrderedPrefetch<TBatch>(plan.Batches.Count, i => Build(plan, epoch, i), Options.Workers, Options.Prefetch,
            b => b.Dispose(), cancellation);
        for (var i = 0; i < plan.Batches.Count; i++)
            yield return run.Take(i);
    }

    /// <summary>Loads and collates batch <paramref name="number"/> on the calling thread; its tensors are detached from every scope.</summary>
    internal TBatch Build(EpochPlan plan, int epoch, int number)
    {
        var slots = plan.Batches[number];
        try
        {
            using var noGrad = Torch.Torch.NoGrad();
            using var scope = Scope.Enter();
            var samples = new TSample[slots.Length];
            for (var k = 0; k < slots.Length; k++)
                samples[k] = _load(slots[k].Index, DataRandom.Create(Options.Seed, 0x4C4F_4144UL, (ulong)epoch, (ulong)slots[k].Position));
            var batch = _collate(samples, new BatchInfo(epoch, number, slots, plan.RealCounts[number]));
            foreach (var t in batch.Tensors) t.DetachFromScope();
            return batch;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var idx = string.Join(", ", slots.Take(8).Select(sl => sl.Index)) + (slots.Length > 8 ? ", …" : "");
            throw new DataLoaderException($"epoch {epoch}, batch {number} (dataset indices {idx}): {e.Message}", e);
        }
    }
}
