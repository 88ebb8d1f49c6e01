using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Tests;

/// <summary>Train/eval behaviour and stochastic depth (seeds the default generator, so serial).</summary>
[Collection(nameof(SerialTests))]
public class VitTrainEvalTests
{
    private static VitConfig Tiny(double dropPath) => new()
    {
        ImgSize = 8, PatchSize = 4, InChans = 3, NumClasses = 4, EmbedDim = 16, Depth = 3, NumHeads = 2, DropPathRate = dropPath,
    };

    [Fact]
    public void DropPathRatesFollowTimmsLinearSchedule()
    {
        using var model = new VisionTransformer(Tiny(0.5));
        Assert.Equal([0.0, 0.25, 0.5], model.Blocks.Select(b => b.DropPathRate));
        Assert.IsType<Identity>(model.Blocks[0].DropPath1);
        Assert.Equal(0.25, Assert.IsType<DropPath>(model.Blocks[1].DropPath1).P);
        Assert.Equal(0.5, Assert.IsType<DropPath>(model.Blocks[2].DropPath2).P);
        // float32 linspace, as torch.linspace(0, rate, depth) in timm
        Assert.Equal((double)(float)0.1, VisionTransformer.DropPathRates(0.3, 4)[1]);
    }

    [Fact]
    public void DropPathIsStochasticInTrainingAndEvalIsDeterministic()
    {
        Torch.Torch.ManualSeed(42);
        using var model = new VisionTransformer(Tiny(0.5));
        using var plain = new VisionTransformer(Tiny(0.0));
        using var scope = Scope.Enter();
        plain.LoadStateDict(model.StateDict());
        var x = Torch.Torch.Randn([8, 3, 8, 8]);

        model.Train();
        Assert.All(model.NamedModules(), m => Assert.True(m.Module.Training));
        var a = model.Forward(x);
        var b = model.Forward(x);
        Assert.False(a.Equal(b), "two training forwards with drop path 0.5 gave identical logits");
        a.Sum().Backward();
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));

        model.Eval();
        plain.Eval();
        Assert.All(model.NamedModules(), m => Assert.False(m.Module.Training));
        using (Torch.Torch.NoGrad())
        {
            var e1 = model.Forward(x);
            var e2 = model.Forward(x);
            Assert.True(e1.Equal(e2), "eval forwards differ");
            Assert.True(e1.Equal(plain.Forward(x)), "eval with drop path differs from the same weights without it");
        }

        model.Train();
        var t = model.Forward(x);
        Assert.False(t.Equal(plain.Forward(x)), "training forward ignored drop path");
    }
}

/// <summary>Handle lifetimes of the model's forward and backward.</summary>
[Collection(nameof(SerialTests))]
public class VitLifetimeTests
{
    [Fact]
    public void ForwardFreesItsTemporaries()
    {
        using var model = new VisionTransformer(new VitConfig
        {
            ImgSize = 8, PatchSize = 4, InChans = 3, NumClasses = 4, EmbedDim = 16, Depth = 3, NumHeads = 2, DropPathRate = 0.2,
        });
        var before = Tensor.LiveCount;
        using (var s = Scope.Enter())
        {
            var x = Torch.Torch.Randn([2, 3, 8, 8]);
            var y = model.Forward(x);
            // The input and the logits stay in this scope; every intermediate handle was released inside Forward.
            Assert.Equal(2, s.Count);
            y.Sum().Backward();
        }
        model.ZeroGrad();
        Assert.Equal(before, Tensor.LiveCount);
    }
}
