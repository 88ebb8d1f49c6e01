using Reproduce.Training.Train;

namespace Reproduce.Training.Tests.Train;

/// <summary>The linear evaluation on frozen features: learns what is linearly there, and nothing that is not.</summary>
public sealed class FrozenLinearEvalTests
{
    /// <summary>N points of D dims around C class means (±mean scale), labels by class.</summary>
    private static (Tensor X, Tensor Y) Blobs(int n, int d, int classes, double spread, ulong seed, Tensor means)
    {
        using var g = new Generator(seed);
        var y = Torch.Torch.Randint(0, classes, [n], g);
        var x = means.IndexSelect(0, y).Add(Torch.Torch.Randn([n, d], g).Mul(spread));
        return (x, y);
    }

    [Fact]
    public void SeparableClassesAreLearnedAndTheBestScaledLrIsReported()
    {
        using var scope = Scope.Enter();
        using var g = new Generator(5);
        var means = Torch.Torch.Randn([4, 16], g).Mul(3);
        var (trainX, trainY) = Blobs(256, 16, 4, 0.3, 1, means);
        var (evalX, evalY) = Blobs(128, 16, 4, 0.3, 2, means);
        double[] grid = [1e-5, 1e-2, 0.1];
        var r = FrozenLinearEval.Evaluate(trainX, trainY, evalX, evalY, 4, grid, epochs: 10, batchSize: 64, seed: 0);
        Assert.Equal(3, r.Top1PerLr.Count);
        Assert.Equal(100.0, r.Top1);
        Assert.Contains(r.BestLr, grid.Select(lr => lr * 64 / 256.0));
        // 1e-5 × 64/256 for 40 steps barely moves the N(0, 0.01²) weights: not better than the best
        Assert.True(r.Top1PerLr[0] <= r.Top1, string.Join(", ", r.Top1PerLr));
        // deterministic for a seed
        var again = FrozenLinearEval.Evaluate(trainX, trainY, evalX, evalY, 4, grid, 10, 64, 0);
        Assert.Equal((r.Top1, r.BestLr), (again.Top1, again.BestLr));
        Assert.Equal(r.Top1PerLr, again.Top1PerLr);
    }

    [Fact]
    public void LabelsUnrelatedToTheFeaturesStayNearChance()
    {
        using var scope = Scope.Enter();
        using var g = new Generator(7);
        var trainX = Torch.Torch.Randn([512, 8], g);
        var trainY = Torch.Torch.Randint(0, 4, [512], g);
        var evalX = Torch.Torch.Randn([2000, 8], g);
        var evalY = Torch.Torch.Randint(0, 4, [2000], g);
        var r = FrozenLinearEval.Evaluate(trainX, trainY, evalX, evalY, 4, [0.1], epochs: 5, batchSize: 128, seed: 0);
        // chance is 25 %; 2000 test points give a standard error of about 1 %
        Assert.InRange(r.Top1, 20, 30);
    }

    [Fact]
    public void EmptyGridOrNoEpochsIsAnError()
    {
        using var scope = Scope.Enter();
        var x = Torch.Torch.Zeros([4, 2]);
        var y = Torch.Torch.Zeros([4], ScalarType.Int64);
        Assert.Throws<ArgumentException>(() => FrozenLinearEval.Evaluate(x, y, x, y, 2, [], 1, 4, 0));
        Assert.Throws<ArgumentException>(() => FrozenLinearEval.Evaluate(x, y, x, y, 2, [0.1], 0, 4, 0));
    }
}
