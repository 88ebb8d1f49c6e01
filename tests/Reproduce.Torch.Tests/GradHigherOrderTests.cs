namespace Reproduce.Torch.Tests;

/// <summary>
/// Double backward: the gradient computed with <see cref="Autograd.Grad"/> and createGraph is itself
/// checked by finite differences (what gradient penalties rely on).
/// </summary>
public class GradHigherOrderTests
{
    /// <summary>
    /// x ↦ ∂/∂x Σ g(x)·v, built so it also runs in the checker's no-grad numeric passes. The checker's
    /// Backward goes through this graph again: that needs retainGraph to default to createGraph.
    /// </summary>
    private static Func<Tensor[], Tensor> GradientOf(Func<Tensor, Tensor> g, Tensor v) => x =>
    {
        using var _ = Torch.EnableGrad();
        var input = x[0].RequiresGrad ? x[0] : x[0].Detach().RequiresGrad_();
        var y = g(input).Mul(v).Sum();
        return Autograd.Grad([y], [input], createGraph: true)[0]!;
    };

    [Fact]
    public void SecondDerivativesOfSmoothOps()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(131);
        var v = r.Randn(3, 4);
        GradCheck.Check(GradientOf(t => t.Tanh(), v), r.Randn(3, 4));
        GradCheck.Check(GradientOf(t => F.Softmax(t, 1), v), r.Randn(3, 4));
        GradCheck.Check(GradientOf(t => F.Gelu(t), v), r.Randn(3, 4));
        GradCheck.Check(GradientOf(t => F.LayerNorm(t, [4]), v), r.Randn(3, 4));
        GradCheck.Check(GradientOf(t => t.Matmul(t.T()).Sigmoid().Matmul(t), v), r.Randn(3, 4));
    }

    [Fact]
    public void AutogradGradMatchesBackward()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(132);
        var a = r.Randn(3).RequiresGrad_();
        var b = r.Randn(3).RequiresGrad_();
        var unused = r.Randn(2).RequiresGrad_();
        var y = a.Mul(b).Exp().Sum();
        var grads = Autograd.Grad([y], [a, b, unused], retainGraph: true, allowUnused: true);
        Assert.Null(grads[2]);
        y.Backward();
        Assert.True(grads[0]!.Equal(a.Grad!));
        Assert.True(grads[1]!.Equal(b.Grad!));
        var ex = Assert.Throws<TorchException>(() => Autograd.Grad([a.Mul(2.0).Sum()], [unused]));
        Assert.Contains("autograd.grad of [float64[]] w.r.t. [float64[2]]", ex.Message);
    }
}
