using System.Text.Json;

namespace Reproduce.Torch.Tests;

/// <summary>
/// Random streams against PyTorch (the "rng" section of tests/fixtures/ops.json): after the same seed
/// the same libtorch must produce bit-identical values. Serial: the default generator is process-wide.
/// </summary>
[Collection(SerialCollection.Name)]
public class RngTests
{
    private static JsonElement Section(string name) => Fixtures.Root.GetProperty("rng").GetProperty(name);

    private static void AssertIdentical(Tensor actual, JsonElement expected, string what)
    {
        using var s = Scope.Enter();
        var e = Fixtures.Decode(expected);
        Assert.True(actual.DType == e.DType && actual.Shape.SequenceEqual(e.Shape), $"{what}: {actual.Describe()} vs PyTorch {e.Describe()}");
        Assert.True(actual.Equal(e), $"{what}: {actual} differs from PyTorch's {e}");
    }

    [Fact]
    public void ManualSeedDefaultGeneratorMatchesPyTorch()
    {
        using var s = Scope.Enter();
        var x = Section("default_1234");
        Torch.ManualSeed(1234);
        // the same sequence of draws as gen_ops.py, from the default generator
        AssertIdentical(Torch.Rand([5]), x.GetProperty("rand5"), "rand(5)");
        AssertIdentical(Torch.Randn([20]), x.GetProperty("randn20"), "randn(20)");
        AssertIdentical(Torch.Randn([5], dtype: ScalarType.Float64), x.GetProperty("randn5_f64"), "randn(5, float64)");
        AssertIdentical(Torch.Randperm(10), x.GetProperty("randperm10"), "randperm(10)");
        AssertIdentical(Torch.Randint(0, 100, [8]), x.GetProperty("randint"), "randint(0, 100, (8,))");
        AssertIdentical(Torch.Randperm(50), x.GetProperty("randperm50"), "randperm(50)");
        AssertIdentical(Torch.Rand([3], dtype: ScalarType.Float64), x.GetProperty("rand3_f64"), "rand(3, float64)");
    }

    [Fact]
    public void ReseedingRestartsTheStream()
    {
        using var s = Scope.Enter();
        Torch.ManualSeed(5);
        var a = Torch.Randn([10]);
        Torch.ManualSeed(5);
        Assert.True(a.Equal(Torch.Randn([10])));
        Assert.False(a.Equal(Torch.Randn([10])));
    }

    [Fact]
    public void SeededGeneratorMatchesPyTorch()
    {
        using var s = Scope.Enter();
        var x = Section("generator_99");
        using var g = new Generator(99);
        AssertIdentical(Torch.Rand([5], g), x.GetProperty("rand5"), "rand(5, generator)");
        AssertIdentical(Torch.Randn([7], g), x.GetProperty("randn7"), "randn(7, generator)");
        AssertIdentical(Torch.Randperm(12, g), x.GetProperty("randperm12"), "randperm(12, generator)");
        AssertIdentical(Torch.Randint(3, 9, [6], g), x.GetProperty("randint"), "randint(3, 9, (6,), generator)");
        AssertIdentical(Torch.Empty([6]).Uniform_(-2, 3, g), x.GetProperty("uniform"), "uniform_(-2, 3)");
        AssertIdentical(Torch.Empty([18]).Normal_(1, 2, g), x.GetProperty("normal"), "normal_(1, 2)");
        AssertIdentical(Torch.Empty([10]).Bernoulli_(0.3, g), x.GetProperty("bernoulli"), "bernoulli_(0.3)");
        AssertIdentical(Torch.Multinomial(Tensor.From(new[] { 0.1f, 0.5f, 0.2f, 0.2f }), 8, true, g), x.GetProperty("multinomial"), "multinomial");
    }

    [Fact]
    public void GeneratorStateRoundTrips()
    {
        using var s = Scope.Enter();
        using var g = new Generator(3);
        var state = g.GetState();
        var a = Torch.Randn([6], g);
        g.SetState(state);
        Assert.True(a.Equal(Torch.Randn([6], g)));
        g.ManualSeed(3);
        Assert.True(a.Equal(Torch.Randn([6], g)));
    }

    [Fact]
    public void BetaViaGammaMatchesPyTorchSamples()
    {
        using var s = Scope.Enter();
        var x = Section("beta_7");
        using var g = new Generator(7);
        var b = Torch.Beta(x.GetProperty("alpha").GetDouble(), x.GetProperty("beta").GetDouble(), [6], g);
        AssertIdentical(b, x.GetProperty("samples"), "Beta(2, 3) via two standard_gamma draws");
    }

    [Theory]
    [InlineData(2.0, 3.0)]
    [InlineData(0.5, 0.5)]
    [InlineData(0.2, 1.5)]
    [InlineData(8.0, 2.0)]
    public void BetaMomentsMatchClosedForm(double alpha, double beta)
    {
        using var s = Scope.Enter();
        using var g = new Generator(2024);
        const int n = 200_000;
        var x = Torch.Beta(alpha, beta, [n], g, ScalarType.Float64);
        Assert.True(x.Ge(0).All().ToInt64() == 1 && x.Le(1).All().ToInt64() == 1, "samples lie in [0, 1]");
        var mean = x.Mean().ToDouble();
        var variance = x.Var([0]).ToDouble();
        var ab = alpha + beta;
        var mu = alpha / ab;
        var sigma2 = alpha * beta / (ab * ab * (ab + 1));
        // standard errors of the sample mean and variance (4th central moment of the Beta distribution)
        var m4 = 3 * alpha * beta * (alpha * beta * (ab - 6) + 2 * ab * ab) / (ab * ab * ab * ab * (ab + 1) * (ab + 2) * (ab + 3));
        var seMean = Math.Sqrt(sigma2 / n);
        var seVar = Math.Sqrt((m4 - sigma2 * sigma2) / n);
        Assert.InRange(mean, mu - 5 * seMean, mu + 5 * seMean);
        Assert.InRange(variance, sigma2 - 5 * seVar, sigma2 + 5 * seVar);
    }
}
