using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Metrics;

namespace Reproduce.Training.Train.Distributed;

/// <summary>
/// Top-k accuracy over a split shared out among the ranks: rank r scores images r, r + W, r + 2W, … (no padding,
/// so every image is counted exactly once), and the per-k correct counts and the image counts are summed over
/// ranks. Integer sums make the merged accuracy exactly the single-process one.
/// </summary>
public static class ShardedEvaluation
{
    /// <summary>Accuracy (percent) of <paramref name="model"/> over all of <paramref name="data"/>, this rank scoring its shard (batches built by <paramref name="workers"/> threads).</summary>
    public static TopKResult Evaluate(DataParallel dp, Module<Tensor, Tensor> model, ClassificationData data, int batchSize, Device device, int workers = 0)
    {
        ArgumentNullException.ThrowIfNull(dp);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var shard = Enumerable.Range(0, data.Count).Where(i => i % dp.WorldSize == dp.Rank).ToArray();
        var acc = new TopKAccuracy(1, Math.Min(5, data.NumClasses));
        var wasTraining = model.Training;
        model.Eval();
        try
        {
            using var inference = Torch.Torch.InferenceMode();
            using var batches = EvalBatches.Open(data, shard, batchSize, workers);
            for (var b = 0; b < batches.Count; b++)
            {
                using var scope = Scope.Enter();
                var (x, y, _) = batches.Take(b).Adopt();
                acc.Update(model.Forward(x.To(device)), y.To(device));
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        var sums = dp.Sum([.. acc.Correct, acc.Count]);
        var count = sums[^1];
        var result = new Dictionary<int, double>();
        for (var i = 0; i < acc.Ks.Count; i++) result[acc.Ks[i]] = count == 0 ? double.NaN : 100.0 * sums[i] / count;
        return new TopKResult(result, count);
    }
}
