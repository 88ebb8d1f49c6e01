using Reproduce.Testing;
using Reproduce.Training.Pretraining;
using static Reproduce.Training.Tests.Pretraining.SslFixture;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>DINOv2's head at shrunk sizes against tests/fixtures/ssl/head.json (gen_head.py, PyTorch's weight_norm).</summary>
public sealed class DinoHeadTests
{
    [Fact]
    public void OutputsAndGradientsEqualPyTorch()
    {
        foreach (var c in Load("head").GetProperty("cases").EnumerateArray())
        {
            using var scope = Scope.Enter();
            var config = new DinoHeadConfig(c.GetProperty("prototypes").GetInt64(), c.GetProperty("hidden").GetInt64(),
                c.GetProperty("bottleneck").GetInt64(), c.GetProperty("layers").GetInt32());
            using var head = new DinoHead(c.GetProperty("in_dim").GetInt64(), config);
            head.To(ScalarType.Float64);
            var state = c.GetProperty("state").EnumerateObject().ToDictionary(p => p.Name,
                p => T(p.Value.GetProperty("values"), Longs(p.Value.GetProperty("shape"))));
            Assert.Equal(state.Keys.Order(), head.StateDict().Keys.Order());
            head.LoadStateDict(state);
            var x = T(c.GetProperty("x"), 3, c.GetProperty("in_dim").GetInt64()).RequiresGrad_();
            var y = head.Forward(x);
            AssertClose(Doubles(c.GetProperty("y")), y, $"{config.Layers}-layer head output");
            y.Mul(T(c.GetProperty("projection"), y.Shape)).Sum().Backward();
            AssertClose(Doubles(c.GetProperty("x_grad")), x.Grad!, "input gradient");
            AssertClose(Doubles(c.GetProperty("weight_g_grad")), head.LastLayer.WeightG.Grad!, "weight_g gradient");
        }
    }

    [Fact]
    public void StartsAsTheReferenceAndPassesAGradientCheck()
    {
        using var scope = Scope.Enter();
        using var head = new DinoHead(4, new DinoHeadConfig(Prototypes: 6, HiddenDim: 5, BottleneckDim: 3));
        // g starts at 1, so every prototype row of the effective weight is a unit vector
        AssertClose(Enumerable.Repeat(1.0, 6).ToArray(), head.LastLayer.WeightG, "weight_g");
        AssertClose(Enumerable.Repeat(1.0, 6).ToArray(), head.LastLayer.Weight().Norm(2, [1]), "row norms", 1e-6);
        Assert.True(DinoHead.IsLastLayer("dino_head.last_layer.weight_v"));
        Assert.False(DinoHead.IsLastLayer("dino_head.mlp.0.weight"));
        head.To(ScalarType.Float64);
        using var inputs = new Inputs(11);
        // O(1) parameters: at the init's std 0.02 the bottleneck is so short that its normalisation turns ±ε into a
        // visibly non-linear step, and finite differences stop being a reference
        using (Torch.Torch.NoGrad())
            foreach (var p in head.Parameters()) p.Copy_(inputs.Randn(p.Shape).Mul(0.6));
        var x = inputs.Randn(3, 4);
        GradCheck.CheckParameters(() => head.Forward(x), [.. head.Parameters()]);
    }
}
