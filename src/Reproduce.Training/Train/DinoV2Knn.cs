using Reproduce.Torch;
using Reproduce.Training.Pretraining;

namespace Reproduce.Training.Train;

/// <summary>The weighted k-NN top-1 of a backbone (percent) and what it was computed on.</summary>
/// <param name="Top1">Top-1 accuracy in percent.</param>
/// <param name="K">k.</param>
/// <param name="Temperature">T.</param>
/// <param name="TrainSamples">Images in the k-NN memory.</param>
/// <param name="EvalSamples">Images scored.</param>
public sealed record KnnResult(double Top1, int K, double Temperature, int TrainSamples, int EvalSamples);

/// <summary>
/// dinov2's k-NN evaluation (<c>eval/knn.py</c>) of a DINOv2 network's backbone: the normalised [CLS] token
/// (<c>x_norm_clstoken</c>) of every training image and every evaluation image through the eval transform, then
/// <see cref="KnnClassifier"/> (L2-normalised features, the k nearest by cosine similarity, votes softmax(s/T)).
/// The same features feed <see cref="FrozenLinearEval"/>.
/// </summary>
public static class DinoV2Knn
{
    private const int ChunkRows = 256;

    /// <summary>
    /// Top-1 of the weighted k-NN with <paramref name="k"/> neighbours at temperature <paramref name="temperature"/>,
    /// training features [N, D] with labels [N] as the memory, scored on the evaluation features and labels.
    /// </summary>
    public static KnnResult Evaluate(Tensor trainX, Tensor trainY, Tensor evalX, Tensor evalY, long classes, int k, double temperature)
    {
        ArgumentNullException.ThrowIfNull(trainX);
        ArgumentNullException.ThrowIfNull(evalX);
        ArgumentNullException.ThrowIfNull(evalY);
        var (n, m) = (trainX.Size(0), evalX.Size(0));
        if (k > n) throw new Config.ConfigException($"ssl.knn_k: k = {k} exceeds the {n} training images of the k-NN memory", "ssl.knn_k");
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = Scope.Enter();
        using var knn = new KnnClassifier(trainX, trainY, classes, temperature);
        // chunks of test rows bound the [rows, N] similarity matrix
        double correct = 0;
        for (long start = 0; start < m; start += ChunkRows)
        {
            using var chunk = Scope.Enter();
            var rows = Math.Min(ChunkRows, m - start);
            correct += knn.Accuracy(evalX.Narrow(0, start, rows), evalY.Narrow(0, start, rows), [k])[k] * rows;
        }
        return new KnnResult(100 * correct / m, k, temperature, (int)n, (int)m);
    }

    /// <summary>The normalised [CLS] features [N, D] (float32) and labels [N] of every image of <paramref name="data"/>, the network in eval mode.</summary>
    public static (Tensor Features, Tensor Labels) Features(DinoV2Network network, ClassificationData data, int batchSize, Device device, int workers)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        // no grad rather than inference mode: the linear evaluation trains on these features
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = Scope.Enter();
        var wasTraining = network.Training;
        network.Eval();
        var features = new List<Tensor>();
        var labels = new List<Tensor>();
        using var batches = EvalBatches.Open(data, Enumerable.Range(0, data.Count).ToArray(), batchSize, workers);
        for (var b = 0; b < batches.Count; b++)
        {
            var (x, y, _) = batches.Take(b).Adopt();
            features.Add(network.Forward(x.To(device)).Cls.To(ScalarType.Float32));
            labels.Add(y.To(device));
        }
        network.Train(wasTraining);
        return (scope.MoveOut(Tensor.Cat(features)), scope.MoveOut(Tensor.Cat(labels)));
    }
}
