using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Training.Train;
using Reproduce.Training.Train.Distributed;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Data.Loading;
using Reproduce.Vision.Metrics;

namespace Reproduce.Training.Probes;

/// <summary>
/// The probes' input pipeline off the training thread and their data-parallel side (<see cref="ProbeOptions.Workers"/>,
/// <see cref="ProbeOptions.Parallel"/>): the training batches of a whole run from the probe's one random stream, each
/// rank's share of every global batch, the gradient averaging of the trained modules, and the sums of the evaluation
/// totals over ranks.
/// </summary>
internal static class ProbeParallel
{
    /// <summary>
    /// The <see cref="ProbeOptions.Steps"/> training batches, built ahead by one thread when <see cref="ProbeOptions.Workers"/>
    /// &gt; 0 (the random stream is sequential, so one after the other) and in order on the caller's thread otherwise. Under
    /// launch every rank walks the W × B global batch and keeps slots r, r + W, …
    /// </summary>
    public static OrderedPrefetch<PreparedBatch> TrainBatches<TSample>(IImageDataset<TSample> train, ProbeOptions options, int size,
        Func<TSample, Tensor> image, Func<TSample, Tensor> target, double mapPad) where TSample : IDisposable
    {
        var rng = new Random(options.Seed);
        var order = ProbeInputs.Order(train.Count, rng).GetEnumerator();
        var dp = options.Parallel;
        var world = dp?.WorldSize ?? 1;
        Func<int, bool>? keep = dp is null ? null : b => b % dp.WorldSize == dp.Rank;
        var workers = Math.Min(options.Workers, 1);
        return new OrderedPrefetch<PreparedBatch>(options.Steps, _ =>
        {
            using var noGrad = Torch.Torch.NoGrad();
            using var s = Scope.Enter();
            var (images, targets) = ProbeInputs.NextBatch(train, order, rng, options.BatchSize * world, options.FlipProb, size, image, target,
                randomCrop: options.Slide, mapPad: mapPad, keep: keep);
            return new PreparedBatch(images, targets);
        }, workers, Math.Max(1, 2 * options.Workers), p => p.Dispose());
    }

    /// <summary>
    /// The gradient averaging of the <paramref name="trained"/> modules (the head, and the backbone when it is fine-tuned)
    /// under launch, rank 0's weights broadcast first; null alone.
    /// </summary>
    public static DataParallelTraining? Start(ProbeOptions options, params Module[] trained) => DataParallelTraining.Start(options.Parallel, trained);

    /// <summary>The segmentation totals of every rank summed (this rank's alone when not launched).</summary>
    public static SegmentationMetric Merge(SegmentationMetric metric, DataParallel? dp)
    {
        if (dp is null) return metric;
        var merged = new SegmentationMetric(metric.NumClasses, metric.IgnoreIndex, metric.ReduceZeroLabel, metric.ReducePredictions);
        merged.AddCounts(dp.Sum(metric.ToCounts()));
        return merged;
    }

    /// <summary>The depth totals of every rank summed (this rank's alone when not launched).</summary>
    public static DepthMetric Merge(DepthMetric metric, DataParallel? dp)
    {
        if (dp is null) return metric;
        var merged = new DepthMetric(metric.Options);
        merged.AddSums(dp.Sum(metric.ToSums()));
        return merged;
    }
}
