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
    /// <paramref name="progress"/> (images done, total) after each batch; <paramref name="workers"/> threads
    /// (<c>data.workers</c>) build the batches ahead (<see cref="EvalBatches"/>; the result does not depend on it).
    /// </summary>
    public static TopKResult Evaluate(Module<Tensor, Tensor> model, ClassificationData data, int batchSize, Device device, Action<int, int>? progress = null,
        int workers = 0)
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
            using var batches = EvalBatches.Open(data, Enumerable.Range(0, data.Count).ToArray(), batchSize, workers);
            for (var b = 0; b < batches.Count; b++)
            {
                using var scope = Scope.Enter();
                var (x, y, _) = batches.Take(b).Adopt();
                acc.Update(model.Forward(x.To(device)), y.To(device));
                progress?.Invoke(Math.Min((b + 1) * batchSize, data.Count), data.Count);
            }
            return acc.Result();
        }
        finally
        {
            model.Train(wasTraining);
        }
    }
}
