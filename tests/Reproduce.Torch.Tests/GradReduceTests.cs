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

    [Fact]
    public void TopKAndSortValues()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(128);
        // Distinct values: the selection and order are stable under ±ε.
        GradCheck.Check(x => x[0].TopK(3).Values, r.Distinct(2, 6));
        GradCheck.Check(x => x[0].TopK(2, dim: 0, largest: false).Values, r.Distinct(4, 3));
        GradCheck.Check(x => x[0].Sort().Values, r.Distinct(3, 5));
        GradCheck.Check(x => x[0].Sort(0, descending: true).Values, r.Distinct(4, 2));
    }

    [Theory]
    [InlineData("sum", true)]
    [InlineData("mean", true)]
    [InlineData("mean", false)]
    [InlineData("amax", true)]
    [InlineData("amin", false)]
    [InlineData("prod", true)]
    public void ScatterReduce(string reduce, bool includeSelf)
    {
        using var s = Scope.Enter();
        using var r = new Inputs(129);
        // duplicates in the index; self and src together hold 16 distinct values (≥ 0.3 apart, ≥ 0.5) so
        // amax/amin have unique winners and prod has no zeros
        var idx = Tensor.From(new long[] { 0, 2, 0, 3, 3, 1, 2, 2 }, new long[] { 2, 4 });
        var d = r.Distinct(2, 8).Add(0.5);
        var self = d.Narrow(1, 0, 4).Contiguous();
        var src = d.Narrow(1, 4, 4).Contiguous();
        GradCheck.Check(x => x[0].ScatterReduce(1, idx, x[1], reduce, includeSelf), self, src);
    }

    [Fact]
    public void PiecewiseConstantOpsHaveZeroGradient()
    {
        using var s = Scope.Enter();
        // values ≥ 0.1 away from integers, half-integers and zero: no jump within ±ε
        var x = Tensor.From(new[] { -2.3, -1.15, -0.7, 0.35, 0.8, 1.2, 2.65, 3.9 });
        foreach (var f in new Func<Tensor, Tensor>[] { t => t.Floor(), t => t.Ceil(), t => t.Round(), t => t.Sign() })
            Assert.Equal(0.0, GradCheck.Check(a => f(a[0]), allowZero: true, x));
        // remainder is piecewise x − c: gradient 1 away from the jumps at multiples of 0.75
        GradCheck.Check(a => a[0].Remainder(0.75), x);
    }
}
