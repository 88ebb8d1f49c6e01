namespace Reproduce.Torch.Tests;

/// <summary>Gradient checks of reductions and scans (float64).</summary>
public class GradReduceTests
{
    [Fact]
    public void SumAndMeanOverDims()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(121);
        GradCheck.Check(x => x[0].Sum(), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Sum(1), r.Randn(2, 3, 2));
        GradCheck.Check(x => x[0].Sum([0, 2], keepDim: true), r.Randn(2, 3, 2));
        GradCheck.Check(x => x[0].Mean(), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Mean(-1), r.Randn(2, 3, 2));
        GradCheck.Check(x => x[0].Mean([0, 1], keepDim: true), r.Randn(2, 3, 2));
    }

    [Fact]
    public void MaxAmaxMinWithUniqueExtremes()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(122);
        // Distinct values (≥ 0.3 apart): the arg-max/min is stable under ±ε.
        GradCheck.Check(x => x[0].Amax([1]), r.Distinct(3, 4));
        GradCheck.Check(x => x[0].Amax([0, 2], keepDim: true), r.Distinct(2, 3, 2));
        GradCheck.Check(x => x[0].Amin([1]), r.Distinct(3, 4));
        GradCheck.Check(x => x[0].Max(1).Values, r.Distinct(3, 4));
        GradCheck.Check(x => x[0].Max(0, keepDim: true).Values, r.Distinct(3, 2));
        GradCheck.Check(x => x[0].Min(-1).Values, r.Distinct(2, 5));
        GradCheck.Check(x => x[0].Max(), r.Distinct(7));
    }

    [Fact]
    public void AmaxSplitsTheGradientOverTies()
    {
        using var s = Scope.Enter();
        // Not a finite-difference case (a tie is a kink): the documented rule is an even split.
        var x = Tensor.From(new[] { 1.0, 3.0, 3.0, 2.0 }).RequiresGrad_();
        x.Amax([0]).Backward();
        Assert.Equal(new[] { 0.0, 0.5, 0.5, 0.0 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void LogSumExp()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(123);
        GradCheck.Check(x => x[0].LogSumExp([1]), r.Randn(3, 4).Mul(3.0));
        GradCheck.Check(x => x[0].LogSumExp([0, 2], keepDim: true), r.Randn(2, 3, 2));
    }

    [Fact]
    public void VectorNorms()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(124);
        GradCheck.Check(x => x[0].Norm(), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Norm(2, [1]), r.Randn(3, 4));
        // the 1-norm has kinks at zero components: inputs are ≥ 0.1 away
        GradCheck.Check(x => x[0].Norm(1, [0], keepDim: true), r.AwayFromZero(0.1, 3, 4));
        GradCheck.Check(x => x[0].Norm(3, [1]), r.AwayFromZero(0.1, 2, 5));
    }

    [Fact]
    public void StdVar()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(125);
        GradCheck.Check(x => x[0].Std([1]), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Std([0, 1], unbiased: false, keepDim: true), r.Randn(2, 3, 2));
        GradCheck.Check(x => x[0].Var([1]), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Var([2], unbiased: false), r.Randn(2, 3, 4));
    }

    [Fact]
    public void ProdAwayFromZero()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(126);
        GradCheck.Check(x => x[0].Prod(), r.AwayFromZero(0.3, 6).Clamp(-1.5, 1.5));
        // with an exact zero the gradient is the product of the others (a smooth case)
        GradCheck.Check(x => x[0].Prod(), Tensor.From(new[] { 0.7, 0.0, -1.3, 1.1 }));
    }

    [Fact]
    public void CumSum()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(127);
        GradCheck.Check(x => x[0].CumSum(0), r.Randn(5));
        GradCheck.Check(x => x[0].CumSum(1), r.Randn(2, 4, 2));
        GradCheck.Check(x => x[0].CumSum(-1), r.Randn(3, 3));
    }
}
