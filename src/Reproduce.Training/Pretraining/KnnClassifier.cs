using Reproduce.Torch;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// DINO/DINOv2's weighted k-NN evaluation (dinov2 <c>eval/knn.py</c>, <c>KnnModule</c>, single process): features
/// are L2-normalised (<c>ModelWithNormalize</c>), and for each test feature
/// <code>
/// s_1 ≥ … ≥ s_K   the K = max(k) largest cosine similarities to the training features, with their labels y_j
/// w_j = softmax(s / T)_j  over those K                     (T = 0.07)
/// p_k(c) = Σ_(j ≤ k) w_j · 1[y_j = c]                       (one score vector per k, e.g. 10, 20, 100, 200)
/// </code>
/// and the prediction for k is argmax_c p_k(c).
/// </summary>
public sealed class KnnClassifier : IDisposable
{
    private readonly Tensor _trainT;
    private readonly Tensor _labels;

    /// <summary>A classifier over training features [N, D] with labels [N] (int64, in [0, classes)).</summary>
    public KnnClassifier(Tensor trainFeatures, Tensor trainLabels, long classes, double temperature = 0.07)
    {
        ArgumentNullException.ThrowIfNull(trainFeatures);
        ArgumentNullException.ThrowIfNull(trainLabels);
        if (trainFeatures.Dim != 2 || trainLabels.Dim != 1 || trainLabels.Size(0) != trainFeatures.Size(0))
            throw new ArgumentException($"k-NN: training features {trainFeatures.Describe()} and labels {trainLabels.Describe()} must be [N, D] and [N]");
        TeacherCenter.CheckTemperature(temperature);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        (Classes, Temperature) = (classes, temperature);
        using var scope = Scope.Enter();
        _trainT = Normalized(trainFeatures).T().Contiguous().DetachFromScope();
        _labels = trainLabels.To(ScalarType.Int64).Contiguous().DetachFromScope();
    }

    /// <summary>Number of classes.</summary>
    public long Classes { get; }

    /// <summary>T.</summary>
    public double Temperature { get; }

    /// <summary>Training samples.</summary>
    public long TrainCount => _labels.Size(0);

    /// <summary>The class scores p_k [B, classes] of test features [B, D], one per k in <paramref name="ks"/>.</summary>
    public IReadOnlyDictionary<int, Tensor> Scores(Tensor features, IReadOnlyList<int> ks)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(ks);
        if (ks.Count == 0 || ks.Any(k => k < 1 || k > TrainCount))
            throw new ArgumentException($"k-NN: every k must lie in 1..{TrainCount} (the training samples), got [{string.Join(", ", ks)}]");
        if (features.Dim != 2 || features.Size(1) != _trainT.Size(0))
            throw new ArgumentException($"k-NN: test features {features.Describe()} must be [B, {_trainT.Size(0)}]");
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = Scope.Enter();
        var maxK = ks.Max();
        var similarity = Normalized(features).Mm(_trainT.To(features.DType));
        var (sims, indices) = similarity.TopK(maxK, 1);
        var neighbourLabels = _labels.Index(indices);
        var weights = F.Softmax(sims.Div(Temperature), 1);
        var votes = Torch.Torch.OneHot(neighbourLabels, Classes).To(weights.DType).Mul(weights.Unsqueeze(-1));
        var result = new Dictionary<int, Tensor>();
        foreach (var k in ks.Distinct()) result[k] = scope.MoveOut(votes.Slice(1, 0, k).Sum(1L));
        return result;
    }

    /// <summary>Top-1 accuracy (in [0, 1]) for each k on test features [B, D] with labels [B].</summary>
    public IReadOnlyDictionary<int, double> Accuracy(Tensor features, Tensor labels, IReadOnlyList<int> ks)
    {
        ArgumentNullException.ThrowIfNull(labels);
        using var scope = Scope.Enter();
        var scores = Scores(features, ks);
        return scores.ToDictionary(kv => kv.Key, kv => kv.Value.Argmax(1).Eq(labels.To(ScalarType.Int64)).To(ScalarType.Float64).Mean().ToDouble());
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _trainT.Dispose();
        _labels.Dispose();
    }

    private static Tensor Normalized(Tensor x) => x.Div(x.Norm(2, [1], keepDim: true).Clamp(min: 1e-12));
}
