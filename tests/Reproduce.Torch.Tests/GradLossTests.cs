namespace Reproduce.Torch.Tests;

/// <summary>Gradient checks of the losses (float64); targets and indices are constants of the closure.</summary>
public class GradLossTests
{
    private static readonly Reduction[] AllReductions = [Reduction.None, Reduction.Mean, Reduction.Sum];

    [Fact]
    public void CrossEntropyClassTargetsWithWeightAndIgnoreIndex()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(61);
        var target = Tensor.From(new long[] { 0, 3, -100, 2, 1, 3 });
        var weight = r.Positive(0.5, 2.0, 4);
        foreach (var red in AllReductions)
            GradCheck.Check(x => F.CrossEntropy(x[0], target, weight, red), r.Randn(6, 4));
        var target2 = Tensor.From(new long[] { 0, 2, 1, 2, 3 });
        GradCheck.Check(x => F.CrossEntropy(x[0], target2, null, Reduction.Mean, ignoreIndex: 2), r.Randn(5, 4));
    }

    [Fact]
    public void CrossEntropySpatialAndLabelSmoothing()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(62);
        var target = Tensor.From(new long[] { 0, 2, 1, 1, 2, 0 }, new long[] { 2, 3 });
        GradCheck.Check(x => F.CrossEntropy(x[0], target.Unsqueeze(1), labelSmoothing: 0.1), r.Randn(2, 3, 1, 3));
        var flat = Tensor.From(new long[] { 4, 0, -100, 2 });
        var weight = r.Positive(0.5, 2.0, 5);
        GradCheck.Check(x => F.CrossEntropy(x[0], flat, weight, Reduction.Mean, labelSmoothing: 0.2), r.Randn(4, 5));
        GradCheck.Check(x => F.CrossEntropy(x[0], flat, null, Reduction.None, labelSmoothing: 0.3), r.Randn(4, 5));
    }

    [Fact]
    public void CrossEntropySoftTargets()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(63);
        var p = F.Softmax(r.Randn(3, 4), 1);
        GradCheck.Check(x => F.CrossEntropy(x[0], x[1]), r.Randn(3, 4), p);
        var weight = r.Positive(0.5, 2.0, 4);
        GradCheck.Check(x => F.CrossEntropy(x[0], x[1], weight, Reduction.Sum, labelSmoothing: 0.15), r.Randn(3, 4), p);
    }

    [Fact]
    public void NllLoss()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(64);
        var target = Tensor.From(new long[] { 1, 0, 2, -100, 2 });
        var weight = r.Positive(0.5, 2.0, 3);
        foreach (var red in AllReductions)
            GradCheck.Check(x => F.NllLoss(F.LogSoftmax(x[0], 1), target, weight, red), r.Randn(5, 3));
        GradCheck.Check(x => F.NllLoss(x[0], target.Clamp(0, 2).Long()), r.Randn(5, 3));
    }

    [Fact]
    public void BinaryCrossEntropyWithLogitsWeightAndPosWeight()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(65);
        var w = r.Positive(0.5, 2.0, 3, 4);
        var pw = r.Positive(0.5, 3.0, 4);
        foreach (var red in AllReductions)
            GradCheck.Check(x => F.BinaryCrossEntropyWithLogits(x[0], x[1], w, pw, red), r.Randn(3, 4).Mul(2.0), r.Uniform(0, 1, 3, 4));
        GradCheck.Check(x => F.BinaryCrossEntropyWithLogits(x[0], x[1]), r.Randn(6), r.Uniform(0, 1, 6));
    }

    [Fact]
    public void BinaryCrossEntropyOnProbabilities()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(66);
        var target = r.Uniform(0, 1, 3, 4);
        var w = r.Positive(0.5, 2.0, 3, 4);
        foreach (var red in AllReductions)
            GradCheck.Check(x => F.BinaryCrossEntropy(x[0], target, w, red), r.Uniform(0.05, 0.95, 3, 4));
        GradCheck.Check(x => F.BinaryCrossEntropy(x[0], x[1]), r.Uniform(0.05, 0.95, 5), r.Uniform(0, 1, 5));
    }

    [Fact]
    public void MseL1SmoothL1()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(67);
        var a = r.Randn(3, 4);
        // L1 and smooth-L1 have kinks where input = target (and |d| = β): d is built away from them.
        var d = Tensor.From(new[] { -1.7, -0.8, -0.3, -0.05, 0.1, 0.45, 0.7, 1.3, 2.2, -2.5, 0.62, -0.4 }, new long[] { 3, 4 });
        var b = a.Add(d);
        foreach (var red in AllReductions)
        {
            GradCheck.Check(x => F.MseLoss(x[0], x[1], red), a, b);
            GradCheck.Check(x => F.L1Loss(x[0], x[1], red), a, b);
            GradCheck.Check(x => F.SmoothL1Loss(x[0], x[1], red), a, b);
            GradCheck.Check(x => F.SmoothL1Loss(x[0], x[1], red, beta: 0.5), a, b);
        }
    }

    [Fact]
    public void KlDiv()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(68);
        var logp = F.LogSoftmax(r.Randn(3, 4), 1);
        var q = F.Softmax(r.Randn(3, 4), 1);
        foreach (var red in AllReductions)
        {
            GradCheck.Check(x => F.KlDiv(x[0], x[1], red), logp, q);
            GradCheck.Check(x => F.KlDiv(x[0], x[1], red, logTarget: true), logp, q.Log());
        }
    }
}
