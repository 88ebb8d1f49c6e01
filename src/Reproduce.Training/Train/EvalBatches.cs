using Reproduce.Vision.Data.Loading;

namespace Reproduce.Training.Train;

/// <summary>
/// Evaluation batches built ahead by <c>data.workers</c> threads (<see cref="OrderedPrefetch{T}"/>, 2 × workers at
/// most; 0 = on the caller's thread): batch b holds the given indices b·B … b·B + B − 1 through the split's
/// eval transform (<see cref="ClassificationData.Batch"/>, no randomness), so the batches are the same for any number
/// of workers.
/// </summary>
internal static class EvalBatches
{
    /// <summary>The batches of <paramref name="indices"/>, <paramref name="batchSize"/> at a time; take them in order and adopt each.</summary>
    public static OrderedPrefetch<PreparedBatch> Open(ClassificationData data, int[] indices, int batchSize, int workers)
    {
        var count = (indices.Length + batchSize - 1) / batchSize;
        return new OrderedPrefetch<PreparedBatch>(count, b =>
        {
            using var noGrad = Torch.Torch.NoGrad();
            using var scope = Torch.Scope.Enter();
            var start = b * batchSize;
            var (x, y) = data.Batch(indices.AsSpan(start, Math.Min(batchSize, indices.Length - start)));
            return new PreparedBatch(x, y);
        }, workers, Math.Max(1, 2 * workers), p => p.Dispose());
    }
}
