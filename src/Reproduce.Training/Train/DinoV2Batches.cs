using Reproduce.Torch;
using Reproduce.Training.Pretraining;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.Loading;

namespace Reproduce.Training.Train;

/// <summary>
/// The DINOv2 batches of one rank for iterations [start, total), built ahead of the training step on a loader thread
/// (with <c>data.workers</c> &gt; 0; up to <see cref="Ahead"/> batches) or in <see cref="Take"/> (0). Iteration t reads
/// the seeded permutation of its pass over the images, this rank's slots r, r + W, … of the global batch, and builds
/// the crops and masks from generators seeded by (seed, t, position), so a batch is the same whoever builds it and when.
/// </summary>
internal sealed class DinoV2Batches : IDisposable
{
    /// <summary>Batches built ahead at most.</summary>
    public const int Ahead = 2;

    private readonly ClassificationData _train;
    private readonly DinoV2BatchBuilder _builder;
    private readonly ulong _seed;
    private readonly int _batch, _rank, _world, _workers;
    private readonly long _start;
    private readonly OrderedPrefetch<Prepared> _prefetch;
    private readonly object _orderLock = new();
    private (long Pass, int[] Order)? _order;

    public DinoV2Batches(ClassificationData train, DinoV2BatchBuilder builder, ulong seed, int batchPerRank, int rank, int world, int workers,
        long start, long total)
    {
        (_train, _builder, _seed, _batch, _rank, _world, _workers, _start) = (train, builder, seed, batchPerRank, rank, world, workers, start);
        var count = (int)Math.Max(0, total - start);
        _prefetch = new OrderedPrefetch<Prepared>(count, i => Build(start + i), workers > 0 ? 1 : 0, Ahead, p => p.Dispose());
    }

    private long GlobalBatch => (long)_batch * _world;

    /// <summary>Iteration <paramref name="t"/>'s batch in the current scope (take them in order).</summary>
    public DinoV2Batch Take(long t) => _prefetch.Take((int)(t - _start)).Adopt();

    private Prepared Build(long t)
    {
        using var scope = Scope.Enter();
        var n = _train.Count;
        var perPass = n / GlobalBatch;
        var pass = t / perPass;
        int[] order;
        lock (_orderLock)
        {
            if (_order is not { } o || o.Pass != pass) _order = (pass, DataRandom.Create(_seed, 0x5353_4C4FUL, (ulong)pass).Permutation(n));
            order = _order.Value.Order;
        }
        var first = t % perPass * GlobalBatch;
        var slots = Enumerable.Range(0, _batch).Select(j => j * _world + _rank).ToArray();
        var raws = _train.RawImages(slots.Select(s => order[first + s]).ToArray(), _workers);
        var positions = slots.Select(s => pass * n + first + s).ToList();
        var images = raws.Select(r => r.Image).ToList();
        var batch = _world == 1
            ? _builder.Build(images, positions, _seed, t)
            : _builder.Build(images, positions, _seed, t, (int)GlobalBatch, slots);
        return new Prepared(batch);
    }

    /// <inheritdoc/>
    public void Dispose() => _prefetch.Dispose();

    /// <summary>A batch whose tensors belong to no scope until <see cref="Adopt"/>.</summary>
    private sealed class Prepared : IDisposable
    {
        private readonly DinoV2Batch _batch;
        private bool _adopted;

        public Prepared(DinoV2Batch batch)
        {
            _batch = batch;
            foreach (var t in Tensors()) t.DetachFromScope();
        }

        private IEnumerable<Tensor> Tensors() => _batch.LocalCrops is null ? [_batch.GlobalCrops, _batch.Masks] : [_batch.GlobalCrops, _batch.LocalCrops, _batch.Masks];

        public DinoV2Batch Adopt()
        {
            if (_adopted) throw new InvalidOperationException("DINOv2 batch: already adopted");
            _adopted = true;
            var adopted = new DinoV2Batch(_batch.GlobalCrops.Alias(), _batch.LocalCrops?.Alias(), _batch.Masks.Alias());
            foreach (var t in Tensors()) t.Dispose();
            return adopted;
        }

        public void Dispose()
        {
            if (_adopted) return;
            _adopted = true;
            foreach (var t in Tensors()) t.Dispose();
        }
    }
}
