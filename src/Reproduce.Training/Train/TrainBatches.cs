using Reproduce.Torch;
using Reproduce.Training.Config;
using Reproduce.Training.Train.Distributed;
using Reproduce.Vision.Data.Loading;
using Reproduce.Vision.Data.TokenLabels;

namespace Reproduce.Training.Train;

/// <summary>
/// A batch built off the training thread: its tensors belong to no scope until <see cref="Adopt"/> moves them into
/// the caller's (or <see cref="Dispose"/> frees them).
/// </summary>
internal sealed class PreparedBatch : IDisposable
{
    private readonly Tensor[] _tensors;
    private bool _adopted;

    /// <summary>Takes <paramref name="images"/>, <paramref name="labels"/> and the maps' tensors out of their scope.</summary>
    public PreparedBatch(Tensor images, Tensor labels, IReadOnlyList<TokenLabelMap>? maps = null)
    {
        (Images, Labels, Maps) = (images, labels, maps);
        _tensors = [images, labels, .. (maps ?? []).SelectMany(m => new[] { m.Values, m.Indices }).Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>()];
        foreach (var t in _tensors) t.DetachFromScope();
    }

    private Tensor Images { get; }
    private Tensor Labels { get; }
    private IReadOnlyList<TokenLabelMap>? Maps { get; }

    /// <summary>The batch in the current scope (aliases of the detached tensors, which are freed); once only.</summary>
    public (Tensor Images, Tensor Labels, IReadOnlyList<TokenLabelMap>? Maps) Adopt()
    {
        if (_adopted) throw new InvalidOperationException("PreparedBatch: already adopted");
        _adopted = true;
        var alias = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var t in _tensors) alias[t] = t.Alias();
        var maps = Maps?.Select(m => m with { Values = alias[m.Values], Indices = alias[m.Indices] }).ToArray();
        var result = (alias[Images], alias[Labels], (IReadOnlyList<TokenLabelMap>?)maps);
        foreach (var t in _tensors) t.Dispose();
        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_adopted) return;
        _adopted = true;
        foreach (var t in _tensors) t.Dispose();
    }
}

/// <summary>
/// The training micro-batches of one run from a given (step, epoch, position) on, built ahead by <c>data.workers</c>
/// threads (<see cref="OrderedPrefetch{T}"/>, 2 × workers batches at most; 0 builds on the training thread): decoding,
/// augmentation, token-label reading and collation leave the training thread. Micro-batch j is step
/// step₀ + ⌊j / A⌋, micro-step j mod A, at update q = position₀ + ⌊j / A⌋ of the run's epochs; its samples come from
/// <see cref="TrainSampling"/> and each sample's augmentation generator from (seed, step, micro-step, global slot), so
/// every batch is a pure function of the configuration and the step — the same bits for any number of workers.
/// </summary>
internal sealed class TrainBatches : IDisposable
{
    private readonly RunConfig _config;
    private readonly ClassificationData _train;
    private readonly TokenLabelTargets? _targets;
    private readonly LoaderOptions _loader;
    private readonly DataParallelTraining? _ddp;
    private readonly long _step, _epoch, _position;
    private readonly int _stepsPerEpoch, _accumulation;
    private readonly Dictionary<long, EpochPlan> _plans = [];
    private readonly object _labelsLock = new();
    private readonly OrderedPrefetch<PreparedBatch> _prefetch;

    public TrainBatches(RunConfig config, ClassificationData train, TokenLabelTargets? targets, LoaderOptions loader, DataParallelTraining? ddp,
        (long Step, long Epoch, long Position) from, long totalSteps, int stepsPerEpoch)
    {
        (_config, _train, _targets, _loader, _ddp) = (config, train, targets, loader, ddp);
        (_step, _epoch, _position) = from;
        _stepsPerEpoch = stepsPerEpoch;
        _accumulation = config.Optim.Accumulation;
        var count = checked((int)(Math.Max(0, totalSteps - _step) * _accumulation));
        var workers = config.Data.Workers;
        _prefetch = new OrderedPrefetch<PreparedBatch>(count, Build, workers, Math.Max(1, 2 * workers), b => b.Dispose());
    }

    /// <summary>Micro-batch <paramref name="j"/> (taken in order); the caller adopts or disposes it.</summary>
    public PreparedBatch Take(int j) => _prefetch.Take(j);

    /// <summary>
    /// The augmentation seed of sample <paramref name="k"/> of a micro-batch: a SplitMix64 finaliser over (seed, step,
    /// micro-step, k), so a resumed run draws the same crops, flips and RandAugment ops as an uninterrupted one.
    /// </summary>
    internal static int SampleSeed(long seed, long step, int micro, int k)
    {
        var z = (ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)step * 0xD1B54A32D192ED03UL + (ulong)micro * 0x8CB92BA72F3D8DD7UL
            + (ulong)k * 0xABC98388FB8FAC03UL + 0x5851F42D4C957F2DUL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    private PreparedBatch Build(int j)
    {
        var step = _step + j / _accumulation;
        var micro = j % _accumulation;
        var q = _position + j / _accumulation;
        var epoch = _epoch + q / _stepsPerEpoch;
        var slots = Plan(epoch).Batches[(int)(q % _stepsPerEpoch * _accumulation + micro)];
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = Scope.Enter();
        var idx = slots.Select(s => s.Index).ToArray();
        var rngs = idx.Select((_, k) => new Random(SampleSeed(_config.Seed, step, micro, _ddp?.GlobalSlot(k) ?? k))).ToArray();
        IReadOnlyList<TokenLabelMap>? maps = null;
        if (_targets is not null)
            lock (_labelsLock) maps = _targets.ReadMaps(idx); // token-label sources are not all thread-safe
        var (images, labels, outMaps) = _train.TrainBatch(idx, rngs, maps, workers: 0);
        return new PreparedBatch(images, labels, outMaps);
    }

    private EpochPlan Plan(long epoch)
    {
        lock (_plans)
        {
            if (!_plans.TryGetValue(epoch, out var plan))
            {
                plan = TrainSampling.Plan(_config, _train.Count, epoch, _loader);
                foreach (var old in _plans.Keys.Where(e => e < epoch - 1).ToList()) _plans.Remove(old);
                _plans[epoch] = plan;
            }
            return plan;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _prefetch.Dispose();
}
