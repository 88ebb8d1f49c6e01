namespace Reproduce.Vision.Data.Loading;

/// <summary>
/// The engine of every off-thread input pipeline (<see cref="DataLoader{TSample, TBatch}"/>, the trainer, the probes,
/// evaluation and annotation): items 0 … <see cref="Count"/>−1 are built by <c>build(i)</c> on worker threads and
/// handed to the consumer strictly in order through a bounded queue — at most <c>prefetch</c> items are built or
/// waiting at any time, so memory stays bounded whatever the speed of the consumer. With 0 workers
/// <see cref="Take"/> builds the item on the caller's thread. Each worker runs libtorch with the thread count of the
/// thread that created the pipeline (OpenMP keeps that count per thread), so an item is computed with the same
/// intra-op splits — hence the same bits — on any thread. With one worker, items are built one after the other in
/// order, which a pipeline with a sequential random stream needs. Disposing stops the workers and discards every
/// item not handed out.
/// </summary>
/// <typeparam name="T">An item (e.g. a batch whose tensors belong to no scope).</typeparam>
public sealed class OrderedPrefetch<T> : IDisposable
{
    private readonly Func<int, T> _build;
    private readonly Action<T>? _discard;
    private readonly CancellationTokenSource _cts;
    private readonly CancellationTokenRegistration _wake;
    private readonly SemaphoreSlim _slots;
    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private readonly Dictionary<int, (T? Item, Exception? Error)> _ready = [];
    private readonly int _torchThreads;
    private int _next = -1;
    private int _taken;
    private bool _closed;

    /// <summary>Starts <paramref name="workers"/> threads building up to <paramref name="prefetch"/> items ahead.</summary>
    /// <param name="count">Number of items.</param>
    /// <param name="build">Builds item i (called once per item, on a worker or, with no workers, in <see cref="Take"/>).</param>
    /// <param name="workers">Worker threads (0 = build on the consumer's thread).</param>
    /// <param name="prefetch">Items built ahead at most (the queue's capacity, ≥ 1).</param>
    /// <param name="discard">Frees an item built but never taken.</param>
    /// <param name="cancellation">Stops the workers.</param>
    public OrderedPrefetch(int count, Func<int, T> build, int workers, int prefetch, Action<T>? discard = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(workers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(prefetch);
        Count = count;
        _build = build;
        _discard = discard;
        _torchThreads = Torch.Torch.NumThreads;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        _wake = _cts.Token.Register(() => { lock (_gate) Monitor.PulseAll(_gate); });
        _slots = new SemaphoreSlim(prefetch, prefetch);
        _threads = new Thread[workers == 0 || count == 0 ? 0 : Math.Min(workers, count)];
        for (var w = 0; w < _threads.Length; w++)
        {
            _threads[w] = new Thread(Work) { IsBackground = true, Name = $"data-worker-{w}" };
            _threads[w].Start();
        }
    }

    /// <summary>Number of items.</summary>
    public int Count { get; }

    private void Work()
    {
        Torch.Torch.NumThreads = _torchThreads;
        var token = _cts.Token;
        while (true)
        {
            try { _slots.Wait(token); }
            catch (OperationCanceledException) { return; }
            var i = Interlocked.Increment(ref _next);
            if (i >= Count)
            {
                _slots.Release();
                return;
            }
            T? item = default;
            Exception? error = null;
            try { item = _build(i); }
            catch (Exception e) { error = e; }
            lock (_gate)
            {
                if (_closed) { if (item is not null) _discard?.Invoke(item); }
                else _ready[i] = (item, error);
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>
    /// Item <paramref name="i"/>, waiting for it; items must be taken in order 0, 1, 2, … A failure of its build is
    /// rethrown here, with its original stack.
    /// </summary>
    public T Take(int i)
    {
        if (i != _taken) throw new InvalidOperationException($"OrderedPrefetch: items are taken in order; asked for {i}, next is {_taken}");
        if (i >= Count) throw new ArgumentOutOfRangeException(nameof(i), $"OrderedPrefetch: item {i} of {Count}");
        _taken++;
        if (_threads.Length == 0)
        {
            _cts.Token.ThrowIfCancellationRequested();
            return _build(i);
        }
        (T? Item, Exception? Error) entry;
        lock (_gate)
        {
            while (!_ready.TryGetValue(i, out entry))
            {
                _cts.Token.ThrowIfCancellationRequested();
                Monitor.Wait(_gate);
            }
            _ready.Remove(i);
        }
        _slots.Release();
        if (entry.Error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(entry.Error).Throw();
        return entry.Item!;
    }

    /// <summary>Stops the workers and discards every item built but not taken.</summary>
    public void Dispose()
    {
        _cts.Cancel();
        foreach (var t in _threads) t.Join();
        lock (_gate)
        {
            _closed = true;
            foreach (var (item, _) in _ready.Values)
                if (item is not null) _discard?.Invoke(item);
            _ready.Clear();
        }
        _wake.Dispose();
        _cts.Dispose();
        _slots.Dispose();
    }
}
