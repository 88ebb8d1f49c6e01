namespace Reproduce.Vision.Tests;

/// <summary>STA, ANF and [CLS]/patch specialization together on one ViT: training, eval, handle lifetimes (serial: live counts).</summary>
[Collection(nameof(SerialTests))]
public class VitPaperOptionsTests
{
    private static readonly VitConfig AllOptions = new()
    {
        ImgSize = 12, PatchSize = 4, InChans = 3, NumClasses = 4, EmbedDim = 8, Depth = 3, NumHeads = 2, InitValues = 0.1, DropPathRate = 0.1,
        Sta = new StructuredTokenAugmentationConfig { Tau = 10 }, // every N(0, 1) patch counts as low-variance: STA always fires
        Anf = new AdaptiveNoiseFilterConfig { ConvAxis = AnfConvAxis.Grid2d, ConvInitStd = 0.02 },
        Specialization = ClsSpecializationConfig.Parse("norm+qkv+proj+mlp+lora2"),
    };

    [Fact]
    public void AllOptionsTrainTogetherAndFreeTheirTemporaries()
    {
        using var model = new VisionTransformer(AllOptions);
        Assert.True(model.IsSpecialized);
        var before = Tensor.LiveCount;
        using (var s = Scope.Enter())
        {
            var x = Torch.Torch.Randn([2, 3, 12, 12]);
            var y = model.Forward(x);
            Assert.Equal(2, s.Count); // the input and the logits; every intermediate was released inside Forward
            y.Sum().Backward();
            var owned = s.Count;
            var layers = model.GetIntermediateLayers(x, [0, 2], norm: true);
            Assert.Equal(owned + 2 * 2, s.Count); // a patch map and a class token per layer, nothing else
            Assert.Equal([2L, 8, 3, 3], layers[1].Patches.Shape);
            Assert.All(model.NamedParameters(), p => Assert.True(p.Parameter.Grad is not null, $"{p.Name} has no gradient"));
        }
        model.ZeroGrad();
        Assert.Equal(before, Tensor.LiveCount);
    }

    [Fact]
    public void EvalIsDeterministicAndTrainingIsNot()
    {
        using var model = new VisionTransformer(AllOptions);
        using var scope = Scope.Enter();
        var x = Torch.Torch.Randn([2, 3, 12, 12]);
        model.Eval();
        using (Torch.Torch.NoGrad())
            Assert.True(model.Forward(x).Equal(model.Forward(x)));
        model.Train();
        Assert.False(model.Forward(x).Equal(model.Forward(x)));
    }
}
