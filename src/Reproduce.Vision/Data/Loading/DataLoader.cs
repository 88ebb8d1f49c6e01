using Reproduce.Torch;

namespace Reproduce.Vision.Data.Loading;

/// <summary>Thrown when loading or collating a batch failed; names the epoch, batch and dataset indices.</summary>
public sealed class DataLoaderException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Multi-threaded batch loader. <see cref="LoaderOptions.Workers"/> threads build whole batches:
/// each sample is loaded by <c>load(index, rng)</c> with an RNG seeded by (seed, epoch, position), then
/// the batch is collated. Batches are delivered in order through a bounded queue of
/// <see cref="LoaderOptions.Prefetch"/> batches, so results never depend on thread timing or on the
/// number of workers. Each batch is built inside a tensor scope on its worker thread; the collated
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
        using var run = new EpochRun(this, plan, epoch, cancellation);
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

    /// <summary>The worker threads and the ordered, bounded hand-over of one epoch.</summary>
    private sealed class EpochRun : IDisposable
    {
        private readonly DataLoader<TSample, TBatch> _loader;
        private readonly EpochPlan _plan;
        private readonly int _epoch;
        private readonly CancellationTokenSource _cts;
        private readonly CancellationTokenRegistration _wake;
        private readonly SemaphoreSlim _slots;
        private readonly Thread[] _threads;
        private readonly object _gate = new();
        private readonly Dictionary<int, (TBatch? Batch, Exception? Error)> _ready = [];
        private int _next = -1;
        private bool _closed;

        public EpochRun(DataLoader<TSample, TBatch> loader, EpochPlan plan, int epoch, CancellationToken cancellation)
        {
            _loader = loader;
            _plan = plan;
            _epoch = epoch;
            _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            _wake = _cts.Token.Register(() => { lock (_gate) Monitor.PulseAll(_gate); });
            _slots = new SemaphoreSlim(loader.Options.Prefetch, loader.Options.Prefetch);
            _threads = new Thread[Math.Min(loader.Options.Workers, Math.Max(1, plan.Batches.Count))];
            for (var w = 0; w < _threads.Length; w++)
            {
                _threads[w] = new Thread(Work) { IsBackground = true, Name = $"data-loader-{w}" };
                _threads[w].Start();
            }
        }

        private void Work()
        {
            var token = _cts.Token;
            while (true)
            {
                try { _slots.Wait(token); }
                catch (OperationCanceledException) { return; }
                var i = Interlocked.Increment(ref _next);
                if (i >= _plan.Batches.Count)
                {
                    _slots.Release();
                    return;
                }
                TBatch? batch = default;
                Exception? error = null;
                try { batch = _loader.Build(_plan, _epoch, i); }
                catch (Exception e) { error = e; }
                lock (_gate)
                {
                    if (_closed) batch?.Dispose();
                    else _ready[i] = (batch, error);
                    Monitor.PulseAll(_gate);
                }
            }
        }

        /// <summary>Waits for batch <paramref name="i"/> (batches are taken in order) and frees its queue slot.</summary>
        public TBatch Take(int i)
        {
            (TBatch? Batch, Exception? Error) item;
            lock (_gate)
            {
                while (!_ready.TryGetValue(i, out item))
                {
                    _cts.Token.ThrowIfCancellationRequested();
                    Monitor.Wait(_gate);
                }
                _ready.Remove(i);
            }
            _slots.Release();
            if (item.Error is not null) throw item.Error is DataLoaderException ? new DataLoaderException(item.Error.Message, item.Error) : item.Error;
            return item.Batch!;
        }

        public void Dispose()
        {
            _cts.Cancel();
            foreach (var t in _threads) t.Join();
            lock (_gate)
            {
                _closed = true;
                foreach (var (batch, _) in _ready.Values) batch?.Dispose();
                _ready.Clear();
            }
            _wake.Dispose();
            _cts.Dispose();
            _slots.Dispose();
        }
    }
}
