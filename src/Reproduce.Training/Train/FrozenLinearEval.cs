using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;
using Reproduce.Vision.Data;

namespace Reproduce.Training.Train;

/// <summary>The linear evaluation's result: the best top-1 (percent) over the learning rates, and each one's.</summary>
/// <param name="Top1">Best top-1 in percent.</param>
/// <param name="BestLr">The (scaled) learning rate that gave it.</param>
/// <param name="Top1PerLr">Top-1 of every learning rate, in the order given.</param>
public sealed record LinearEvalResult(double Top1, double BestLr, IReadOnlyList<double> Top1PerLr);

/// <summary>
/// dinov2's linear evaluation (<c>eval/linear.py</c>) in its simplest configuration, on precomputed frozen features
/// (the teacher's normalised [CLS] of the last block: <c>n_last_blocks=1</c>, no average pool) without augmentation:
/// one linear classifier per learning rate, trained side by side (<c>AllClassifiers</c>) with SGD, momentum 0.9,
/// no weight decay and a cosine schedule to 0 (<c>CosineAnnealingLR</c>); weights N(0, 0.01²), biases 0; each lr is
/// the grid value × batch / 256 (<c>scale_lr</c>); the best on the evaluation split is reported, as dinov2 does.
/// Mini-batches follow a seeded permutation per epoch (the last partial batch dropped).
/// </summary>
public static class FrozenLinearEval
{
    /// <summary>Trains and scores the classifiers; features [N, D], labels [N] int64.</summary>
    public static LinearEvalResult Evaluate(Tensor trainX, Tensor trainY, Tensor evalX, Tensor evalY, long classes, IReadOnlyList<double> lrGrid,
        int epochs, int batchSize, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(trainX);
        ArgumentNullException.ThrowIfNull(trainY);
        ArgumentNullException.ThrowIfNull(evalX);
        ArgumentNullException.ThrowIfNull(evalY);
        ArgumentNullException.ThrowIfNull(lrGrid);
        if (lrGrid.Count == 0 || epochs < 1) throw new ArgumentException($"linear eval: {lrGrid.Count} learning rates and {epochs} epochs; need at least one of each");
        using var scope = Scope.Enter();
        var n = (int)trainX.Size(0);
        var batch = Math.Min(batchSize, n);
        var lrs = lrGrid.Select(lr => lr * batch / 256.0).ToArray();
        using var generator = new Generator(seed);
        var heads = new List<Linear>();
        try
        {
            foreach (var _ in lrs)
            {
                var head = new Linear(trainX.Size(1), classes, device: trainX.Device);
                using (Torch.Torch.NoGrad())
                {
                    Init.Normal_(head.Weight, std: 0.01, generator: generator);
                    Init.Zeros_(head.Bias!);
                }
                heads.Add(head);
            }
            var groups = heads.Select((h, i) => new ParamGroup(h.Parameters(), lr: lrs[i], weightDecay: 0)).ToList();
            using var sgd = new Sgd(groups, lrs[0], 0, new SgdOptions(Momentum: 0.9));
            var perEpoch = n / batch;
            var total = (long)epochs * perEpoch;
            long t = 0;
            for (var epoch = 0; epoch < epochs; epoch++)
            {
                var order = DataRandom.Create(seed, 0x4C49_4E45UL, (ulong)epoch).Permutation(n).Select(i => (long)i).ToArray();
                for (var s = 0; s < perEpoch; s++, t++)
                {
                    using var step = Scope.Enter();
                    var idx = Tensor.From<long>(order.AsSpan(s * batch, batch).ToArray(), [batch]).To(trainX.Device);
                    var x = trainX.IndexSelect(0, idx);
                    var y = trainY.IndexSelect(0, idx);
                    var factor = 0.5 * (1 + Math.Cos(Math.PI * t / total));
                    for (var i = 0; i < groups.Count; i++) groups[i].Lr = lrs[i] * factor;
                    sgd.ZeroGrad();
                    // the heads share no parameters, so the sum's gradient is each head's own
                    var loss = heads.Select(h => F.CrossEntropy(h.Forward(x), y)).Aggregate((a, b) => a.Add(b));
                    loss.Backward();
                    sgd.Step();
                }
            }
            using var noGrad = Torch.Torch.NoGrad();
            var top1 = heads.Select(h => 100 * h.Forward(evalX).Argmax(1).Eq(evalY).To(ScalarType.Float64).Mean().ToDouble()).ToList();
            var best = top1.IndexOf(top1.Max());
            return new LinearEvalResult(top1[best], lrs[best], top1);
        }
        finally
        {
            foreach (var h in heads) h.Dispose();
        }
    }
}
