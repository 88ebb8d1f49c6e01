using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Metrics;

namespace Reproduce.Training.Train;

/// <summary>
/// Top-1 / top-5 accuracy of a classifier over a split, in inference mode with the model in eval mode. The logits
/// are the model's eval forward, so LV-ViT's combined inference output (class-token logits + 0.5 × the max over
/// the token logits) is what is scored. The model's train/eval mode is restored afterwards.
/// </summary>
public static class Evaluator
{
    /// <summary>
    /// Accuracy (percent) of <paramref name="model"/> on <paramref name="data"/>, batches of <paramref name="batchSize"/>;
    /// <paramref name="progress"/> (images done, total) after each batch.
    /// </summary>
    public static TopKResult Evaluate(Module<Tensor, Tensor> model, ClassificationData data, int batchSize, Device device, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var wasTraining = model.Training;
        model.Eval();
        try
        {
            using var inference = Torch.Torch.InferenceMode();
            var acc = new TopKAccuracy(1, Math.Min(5, data.NumClasses));
            for (var start = 0; start < data.Count; start += batchSize)
            {
                using var scope = Scope.Enter();
                var idx = Enumerable.Range(start, Math.Min(batchSize, data.Count - start)).ToArray();
                var (x, y) = data.Batch(idx);
                acc.Update(model.Forward(x.To(device)), y.To(device));
                progress?.Invoke(start + idx.Length, data.Count);
            }
            return acc.Result();
        }
        finally
        {
            model.Train(wasTraining);
        }
    }
}
