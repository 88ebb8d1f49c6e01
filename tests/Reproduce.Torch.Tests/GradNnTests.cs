namespace Reproduce.Torch.Tests;

/// <summary>Gradient checks of normalisation, activations, softmax, attention and dropout (float64).</summary>
public class GradNnTests
{
    [Fact]
    public void LayerNormWithAffine()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(41);
        GradCheck.Check(x => F.LayerNorm(x[0], [4], x[1], x[2]), r.Randn(2, 3, 4), r.Randn(4), r.Randn(4));
        GradCheck.Check(x => F.LayerNorm(x[0], [2, 3], x[1], x[2], eps: 1e-3), r.Randn(2, 2, 3), r.Randn(2, 3), r.Randn(2, 3));
        GradCheck.Check(x => F.LayerNorm(x[0], [5]), r.Randn(3, 5));
    }

    [Fact]
    public void BatchNormTraining()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(42);
        // Batch statistics; the running buffers are fresh per evaluation (they are updated in place).
        GradCheck.Check(x =>
        {
            var rm = Torch.Zeros([3], ScalarType.Float64);
            var rv = Torch.Ones([3], ScalarType.Float64);
            return F.BatchNorm(x[0], rm, rv, x[1], x[2], training: true);
        }, r.Randn(4, 3, 2, 2), r.Randn(3), r.Randn(3));
        GradCheck.Check(x => F.BatchNorm(x[0], null, null, x[1], x[2], training: true), r.Randn(5, 3), r.Randn(3), r.Randn(3));
    }

    [Fact]
    public void BatchNormEval()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(43);
        var rm = r.Randn(3);
        var rv = r.Positive(0.5, 2.0, 3);
        GradCheck.Check(x => F.BatchNorm(x[0], rm, rv, x[1], x[2], training: false), r.Randn(2, 3, 2, 2), r.Randn(3), r.Randn(3));
    }

    [Fact]
    public void GroupNorm()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(44);
        GradCheck.Check(x => F.GroupNorm(x[0], 2, x[1], x[2]), r.Randn(2, 4, 2, 3), r.Randn(4), r.Randn(4));
        GradCheck.Check(x => F.GroupNorm(x[0], 3), r.Randn(1, 6, 3));
    }

    [Fact]
    public void SoftmaxAndLogSoftmax()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(45);
        GradCheck.Check(x => F.Softmax(x[0], -1), r.Randn(3, 5));
        GradCheck.Check(x => F.Softmax(x[0], 0), r.Randn(3, 2, 2));
        GradCheck.Check(x => F.LogSoftmax(x[0], 1), r.Randn(2, 4, 2));
    }

    [Fact]
    public void GeluErfAndTanh()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(46);
        GradCheck.Check(x => F.Gelu(x[0]), r.Randn(3, 5).Mul(2.0));
        GradCheck.Check(x => F.Gelu(x[0], tanhApproximation: true), r.Randn(3, 5).Mul(2.0));
    }

    [Fact]
    public void ReluSiluLeakyRelu()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(47);
        // relu and leaky_relu have a kink at 0: inputs are ≥ 0.1 away from it.
        GradCheck.Check(x => F.Relu(x[0]), r.AwayFromZero(0.1, 3, 5));
        GradCheck.Check(x => x[0].Relu(), r.AwayFromZero(0.1, 7));
        GradCheck.Check(x => F.LeakyRelu(x[0], 0.2), r.AwayFromZero(0.1, 3, 5));
        GradCheck.Check(x => F.Silu(x[0]), r.Randn(3, 5).Mul(2.0));
    }

    [Fact]
    public void AttentionMathWithAndWithoutMasks()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(48);
        var boolMask = Tensor.From(new[] { true, false, true, true, true, true, false, true, true, true, true, false }, new long[] { 1, 1, 3, 4 });
        var addMask = r.Randn(3, 4);
        GradCheck.Check(x => F.AttentionMath(x[0], x[1], x[2]), r.Randn(1, 2, 3, 2), r.Randn(1, 2, 4, 2), r.Randn(1, 2, 4, 3));
        GradCheck.Check(x => F.AttentionMath(x[0], x[1], x[2], boolMask), r.Randn(1, 2, 3, 2), r.Randn(1, 2, 4, 2), r.Randn(1, 2, 4, 3));
        GradCheck.Check(x => F.AttentionMath(x[0], x[1], x[2], addMask, scale: 0.3), r.Randn(2, 1, 3, 2), r.Randn(2, 1, 4, 2), r.Randn(2, 1, 4, 2));
    }

    [Fact]
    public void ScaledDotProductAttentionMatchesMathAndGradients()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(49);
        var mask = Tensor.From(new[] { true, true, false, true, false, true, true, true, true }, new long[] { 3, 3 });
        GradCheck.Check(x => F.ScaledDotProductAttention(x[0], x[1], x[2]), r.Randn(1, 2, 3, 4), r.Randn(1, 2, 3, 4), r.Randn(1, 2, 3, 2));
        GradCheck.Check(x => F.ScaledDotProductAttention(x[0], x[1], x[2], mask), r.Randn(1, 1, 3, 4), r.Randn(1, 1, 3, 4), r.Randn(1, 1, 3, 2));
        var q = r.Randn(2, 2, 3, 4); var k = r.Randn(2, 2, 5, 4); var v = r.Randn(2, 2, 5, 3);
        Assert.True(F.ScaledDotProductAttention(q, k, v).AllClose(F.AttentionMath(q, k, v), 1e-12, 1e-12));
    }

    [Fact]
    public void AttentionMaskedKeysGetNoWeight()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(50);
        // With key 1 masked out for every query, changing its value row must not change the output.
        var mask = Tensor.From(new[] { true, false, true, true, false, true }, new long[] { 2, 3 });
        var q = r.Randn(1, 1, 2, 2); var k = r.Randn(1, 1, 3, 2); var v = r.Randn(1, 1, 3, 2);
        var v2 = v.Clone();
        v2.Select(2, 1).Fill_(100.0);
        Assert.True(F.AttentionMath(q, k, v, mask).AllClose(F.AttentionMath(q, k, v2, mask), 0, 1e-12));
        Assert.False(F.AttentionMath(q, k, v).AllClose(F.AttentionMath(q, k, v2), 0, 1e-6));
    }
}

/// <summary>
/// Dropout is random, so instead of finite differences: with a fixed seed the same mask comes back,
/// the output is input·mask/(1−p), and the gradient is w·mask/(1−p). Runs serially because it uses the
/// process-wide default generator.
/// </summary>
[Collection(SerialCollection.Name)]
public class GradDropoutTests
{
    [Fact]
    public void FixedSeedMaskIdentity()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(51);
        const double p = 0.3;
        var x = r.AwayFromZero(0.1, 40, 50).RequiresGrad_();
        Torch.ManualSeed(77);
        var y1 = F.Dropout(x, p, training: true);
        Torch.ManualSeed(77);
        var y2 = F.Dropout(x, p, training: true);
        Assert.True(y1.Equal(y2), "same seed, same mask");

        var mask = y1.Ne(0).To(ScalarType.Float64);
        var kept = mask.Mean().ToDouble();
        Assert.InRange(kept, 1 - p - 0.05, 1 - p + 0.05);
        Assert.True(y1.AllClose(x.Mul(mask).Div(1 - p), 1e-15, 0));

        var w = r.Randn(40, 50);
        y1.Mul(w).Sum().Backward();
        Assert.True(x.Grad!.AllClose(w.Mul(mask).Div(1 - p), 1e-15, 0));

        // eval mode is the identity (and keeps the graph)
        Assert.True(F.Dropout(x, p, training: false).Equal(x));
    }
}
