using Reproduce.Training.Probes;

namespace Reproduce.Training.Tests.Probes;

/// <summary>SigLoss against values worked out by hand (DINOv2's formula, docs/protocols/dense-probes.md §5.2).</summary>
public class SigLossTests
{
    private const double Eps = SigLoss.Epsilon;

    [Fact]
    public void MatchesTheHandComputedValueOnValidPixelsOnly()
    {
        // target [1, 2, 0, 4] (0 invalid), prediction [2, 2, 7, 1]: valid pairs (p, t) = (2,1) (2,2) (1,4).
        using var scope = Scope.Enter();
        var p = Tensor.From<float>([2, 2, 7, 1], [2, 2]);
        var t = Tensor.From<float>([1, 2, 0, 4], [2, 2]);
        double[] g = [Math.Log(2 + Eps) - Math.Log(1 + Eps), 0, Math.Log(1 + Eps) - Math.Log(4 + Eps)];
        var mean = g.Average();
        var varUnbiased = g.Select(x => (x - mean) * (x - mean)).Sum() / (g.Length - 1);
        var expected = Math.Sqrt(varUnbiased + 0.15 * mean * mean);
        Assert.Equal(expected, new SigLoss().Forward(p, t).ToDouble(), 5);
        Assert.Equal(10 * expected, new SigLoss(lossWeight: 10).Forward(p, t).ToDouble(), 4);
    }

    [Fact]
    public void WarmUpUsesOnlyTheMeanTermThenTheFullLoss()
    {
        // g = ln(2.001/1.001) on both valid pixels (a pure scale error): Var = 0, so warm-up and full loss agree here
        // only through the mean term: sqrt(0.15·g²) = sqrt(0.15)·g.
        using var scope = Scope.Enter();
        var p = Tensor.From<float>([2, 2], [2]);
        var t = Tensor.From<float>([1, 1], [2]);
        var g = Math.Log(2 + Eps) - Math.Log(1 + Eps);
        var loss = new SigLoss(warmUpSteps: 1);
        Assert.Equal(Math.Sqrt(0.15) * g, loss.Forward(p, t).ToDouble(), 5);
        Assert.Equal(1, loss.Calls);
        Assert.Equal(Math.Sqrt(0.15) * g, loss.Forward(p, t).ToDouble(), 5);
        // with a spread: warm-up ignores it, the full loss does not
        var p2 = Tensor.From<float>([2, 4], [2]);
        var warm = new SigLoss(warmUpSteps: 1).Forward(p2, t).ToDouble();
        var full = new SigLoss().Forward(p2, t).ToDouble();
        Assert.True(full > warm, $"full {full} should exceed warm-up {warm}");
    }

    [Fact]
    public void MaxDepthMasksFarPixelsAndNoValidPixelIsAClearError()
    {
        using var scope = Scope.Enter();
        var p = Tensor.From<float>([1, 1, 1], [3]);
        var t = Tensor.From<float>([1, 1, 50], [3]);
        Assert.Equal(0, new SigLoss(maxDepth: 10).Forward(p, t).ToDouble(), 6); // the 50 m pixel is dropped, g = 0
        Assert.True(new SigLoss().Forward(p, t).ToDouble() > 0.5);
        var e = Assert.Throws<ArgumentException>(() => new SigLoss().Forward(p, Tensor.From<float>([0, 0, 0], [3])));
        Assert.Contains("no valid", e.Message);
    }
}
