namespace Reproduce.Torch.Tests;

/// <summary>
/// In-place wrappers pass their arguments through <see cref="Op.InvokeInPlace"/> (regression: the
/// arguments after self used to be copied into a temporary array and arrive as None).
/// </summary>
public class InPlaceTests
{
    [Fact]
    public void ArithmeticInPlaceOpsUseTheirArguments()
    {
        using var s = Scope.Enter();
        var t = Tensor.From(new[] { 1.0, 2.0, 3.0 });
        var other = Tensor.From(new[] { 10.0, 20.0, 30.0 });
        Assert.Same(t, t.Add_(other, 0.5));
        Assert.Equal(new[] { 6.0, 12.0, 18.0 }, t.ToArray<double>());
        t.Mul_(2.0).Sub_(other).Div_(2.0).Add_(1.0);
        Assert.Equal(new[] { 2.0, 3.0, 4.0 }, t.ToArray<double>());
        t.Clamp_(2.5, 3.5);
        Assert.Equal(new[] { 2.5, 3.0, 3.5 }, t.ToArray<double>());
        t.Fill_(7.0);
        Assert.Equal(new[] { 7.0, 7.0, 7.0 }, t.ToArray<double>());
        t.Lerp_(other, 0.5).Addcmul_(other, other, 0.01);
        Assert.Equal(new[] { 9.5, 17.5, 27.5 }, t.ToArray<double>());
    }

    [Fact]
    public void IndexAndMaskedInPlaceOps()
    {
        using var s = Scope.Enter();
        var t = Torch.Zeros([5], ScalarType.Float64);
        t.IndexPut_([Tensor.From(new long[] { 1, 3, 1 })], Tensor.From(new[] { 1.0, 2.0, 4.0 }), accumulate: true);
        Assert.Equal(new[] { 0.0, 5.0, 0.0, 2.0, 0.0 }, t.ToArray<double>());
        t.MaskedFill_(t.Eq(0), -1.0);
        Assert.Equal(new[] { -1.0, 5.0, -1.0, 2.0, -1.0 }, t.ToArray<double>());
        t.ScatterAdd_(0, Tensor.From(new long[] { 0, 0 }), Tensor.From(new[] { 3.0, 4.0 }));
        Assert.Equal(6.0, t.Select(0, 0).ToDouble());
    }

    [Fact]
    public void RandomFillsHonourTheirRange()
    {
        using var s = Scope.Enter();
        using var g = new Generator(5);
        var u = Torch.Empty([2000], ScalarType.Float64).Uniform_(3.0, 4.0, g);
        Assert.InRange(u.Min().ToDouble(), 3.0, 3.01);
        Assert.InRange(u.Max().ToDouble(), 3.99, 4.0);
        var n = Torch.Empty([4000], ScalarType.Float64).Normal_(5.0, 0.5, g);
        Assert.InRange(n.Mean().ToDouble(), 4.95, 5.05);
        var ri = Torch.Empty([1000], ScalarType.Int64).Random_(2, 5, g);
        Assert.Equal(2, ri.Min().ToInt64());
        Assert.Equal(4, ri.Max().ToInt64());
    }
}

/// <summary>Overload resolution of the reduction wrappers.</summary>
public class OverloadTests
{
    [Fact]
    public void LiteralZeroDimIsADimensionNotADtype()
    {
        using var s = Scope.Enter();
        var x = Tensor.From(new[] { 1.0, 2.0, 3.0, 4.0, 5.0, 6.0 }, new long[] { 2, 3 });
        // 0 converts implicitly to any enum; Sum(0) once meant Sum(dtype: UInt8).
        var sum0 = x.Sum(0);
        Assert.Equal(new long[] { 3 }, sum0.Shape);
        Assert.Equal(ScalarType.Float64, sum0.DType);
        Assert.Equal(new[] { 5.0, 7.0, 9.0 }, sum0.ToArray<double>());
        Assert.Equal(new[] { 2.5, 3.5, 4.5 }, x.Mean(0).ToArray<double>());
        Assert.Equal(new long[] { 1, 3 }, x.Sum(0, keepDim: true).Shape);
        Assert.Equal(new[] { 6.0, 15.0 }, x.Sum(1).ToArray<double>());
        Assert.Equal(21.0, x.Sum().ToDouble());
        Assert.Equal(ScalarType.Float32, x.Sum(ScalarType.Float32).DType);
    }
}
