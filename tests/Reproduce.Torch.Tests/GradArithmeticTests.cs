namespace Reproduce.Torch.Tests;

/// <summary>Gradient checks of element-wise arithmetic and unary functions (float64, see <see cref="GradCheck"/>).</summary>
public class GradArithmeticTests
{
    [Fact]
    public void AddSubWithBroadcastingAndAlpha()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(1);
        GradCheck.Check(x => x[0].Add(x[1], 0.7), r.Randn(2, 3, 4), r.Randn(3, 1));
        GradCheck.Check(x => x[0].Sub(x[1], 1.3), r.Randn(4), r.Randn(2, 3, 4));
        GradCheck.Check(x => x[0] + 2.5 - x[1] * 0.5, r.Randn(3, 4), r.Randn(4));
        GradCheck.Check(x => 1.5 - x[0], r.Randn(5));
    }

    [Fact]
    public void MulDivWithBroadcasting()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(2);
        GradCheck.Check(x => x[0].Mul(x[1]), r.Randn(2, 1, 4), r.Randn(3, 1));
        GradCheck.Check(x => x[0].Div(x[1]), r.Randn(2, 3), r.AwayFromZero(0.5, 3));
        GradCheck.Check(x => x[0].Div(2.5).Mul(3.0), r.Randn(2, 3));
        GradCheck.Check(x => 2.0 / x[0], r.AwayFromZero(0.5, 6));
    }

    [Fact]
    public void PowTensorAndScalar()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(3);
        GradCheck.Check(x => x[0].Pow(x[1]), r.Positive(0.5, 2.0, 2, 3), r.Randn(2, 3));
        GradCheck.Check(x => x[0].Pow(3.0), r.Randn(7));
        GradCheck.Check(x => x[0].Pow(-1.5), r.Positive(0.5, 2.0, 7));
        GradCheck.Check(x => x[0].Pow(0.5), r.Positive(0.5, 2.0, 7));
    }

    [Fact]
    public void ExpLogFamily()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(4);
        GradCheck.Check(x => x[0].Exp(), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Log(), r.Positive(0.3, 3.0, 3, 4));
        GradCheck.Check(x => x[0].Log1p(), r.Uniform(-0.5, 2.0, 3, 4));
        GradCheck.Check(x => x[0].Expm1(), r.Randn(6));
        GradCheck.Check(x => x[0].Log2().Add(x[0].Log10()), r.Positive(0.3, 3.0, 6));
    }

    [Fact]
    public void RootsSquareReciprocal()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(5);
        GradCheck.Check(x => x[0].Sqrt(), r.Positive(0.3, 3.0, 3, 4));
        GradCheck.Check(x => x[0].Rsqrt(), r.Positive(0.3, 3.0, 3, 4));
        GradCheck.Check(x => x[0].Square(), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Reciprocal(), r.AwayFromZero(0.4, 3, 4));
    }

    [Fact]
    public void TrigAndSquashing()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(6);
        GradCheck.Check(x => x[0].Sin(), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Cos(), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Tanh(), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Sigmoid(), r.Randn(3, 4));
        GradCheck.Check(x => F.Sigmoid(x[0]), r.Randn(5));
        GradCheck.Check(x => x[0].Erf(), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Erfinv(), r.Uniform(-0.9, 0.9, 8));
    }

    [Fact]
    public void AbsAwayFromZero()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(7);
        // |x| has a kink at 0: inputs are at least 0.1 away from it.
        GradCheck.Check(x => x[0].Abs(), r.AwayFromZero(0.1, 3, 4));
        GradCheck.Check(x => x[0].Neg(), r.Randn(5));
    }

    [Fact]
    public void ClampAwayFromBounds()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(8);
        // Values are ≥ 0.1 away from the bounds ±0.5 (kinks), some inside and some on each side.
        var v = Tensor.From(new[] { -1.3, -0.9, -0.62, -0.38, -0.1, 0.05, 0.27, 0.4, 0.6, 0.85, 1.2, -0.2,
                                    0.33, -0.75, 0.71, -0.02, 1.05, -1.1, 0.18, -0.29 }, new long[] { 4, 5 });
        GradCheck.Check(x => x[0].Clamp(-0.5, 0.5), v);
        GradCheck.Check(x => x[0].Clamp(min: -0.5), v);
        GradCheck.Check(x => x[0].Clamp(max: 0.5), v);
        // tensor bounds lo = v − d, hi = lo + 0.4 with d cycling through −0.3 (below lo), 0.2 (inside),
        // 0.6 (above hi): every element is ≥ 0.2 from both bounds.
        var d = Tensor.From(Enumerable.Range(0, 20).Select(k => new[] { -0.3, 0.2, 0.6 }[k % 3]).ToArray(), new long[] { 4, 5 });
        var lo = v.Sub(d);
        var hi = lo.Add(0.4);
        GradCheck.Check(x => x[0].Clamp(x[1], x[2]), v, lo, hi);
    }

    [Fact]
    public void LerpAddcmulAddcdiv()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(9);
        GradCheck.Check(x => x[0].Lerp(x[1], 0.3), r.Randn(3, 4), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Addcmul(x[1], x[2], 0.7), r.Randn(3, 4), r.Randn(4), r.Randn(3, 1));
        GradCheck.Check(x => x[0].Addcdiv(x[1], x[2], -1.3), r.Randn(3, 4), r.Randn(3, 4), r.AwayFromZero(0.5, 3, 4));
    }

    [Fact]
    public void MaximumMinimumWithoutTies()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(10);
        // b = a ± (0.1 + |n|): the pairs are never equal, so the pick is stable under ±ε.
        var a = r.Randn(3, 4);
        var b = a.Add(r.AwayFromZero(0.1, 3, 4));
        GradCheck.Check(x => x[0].Maximum(x[1]), a, b);
        GradCheck.Check(x => x[0].Minimum(x[1]), a, b);
    }

    [Fact]
    public void OperatorsComposeIntoOneGraph()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(11);
        GradCheck.Check(x => (x[0] * x[1] + x[0].Exp() / (x[1].Square() + 1.0)).Tanh() - x[1] * 0.25,
            r.Randn(2, 3), r.Randn(2, 3));
    }
}

/// <summary>The checker itself: it must reject a wrong gradient and report a small error for a right one.</summary>
public class GradCheckSelfTests
{
    [Fact]
    public void RejectsAGradientThatMissesAPath()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(12);
        // x.Detach()·x: autograd sees only one factor (gradient x) while the function's derivative is 2x.
        var ex = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => GradCheck.Check(x => x[0].Detach().Mul(x[0]), r.AwayFromZero(0.2, 5)));
        Assert.Contains("analytic", ex.Message);
        Assert.True(Scope.Current == s, "the checker closed its scopes after failing");
    }

    [Fact]
    public void RejectsAGradientOffByTenPpm()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(15);
        // x + 1e-5·x.Detach(): the true derivative is 1 + 1e-5, autograd reports 1 (error 1e-5 > 1e-6).
        var ex = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => GradCheck.Check(x => x[0].Add(x[0].Detach().Mul(1e-5)), r.Randn(6)));
        Assert.Contains("rel.err 1.0", ex.Message);
    }

    [Fact]
    public void RejectsADisconnectedInput()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(13);
        var ex = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => GradCheck.Check(x => x[0].Exp(), r.Randn(3), r.Randn(3)));
        Assert.Contains("identically zero", ex.Message);
    }

    [Fact]
    public void ReportsTinyErrorForASmoothFunction()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(14);
        var worst = GradCheck.Check(x => x[0].Sin().Mul(x[1].Exp()), r.Randn(4, 3), r.Randn(4, 3));
        Assert.InRange(worst, 0, 1e-7);
    }
}
