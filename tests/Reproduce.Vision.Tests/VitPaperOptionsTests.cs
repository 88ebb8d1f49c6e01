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
        Specialization = new ClsSpecializationConfig { ProjBlocks = null, MlpBlocks = null, LoraRank = 2 },
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

    [Fact]
    public void RegistryVariantsAreOptionsOnABaseModel()
    {
        var vitB = ModelRegistry.Get("vit_base_patch16_224");
        var spec = (VitConfig)vitB.With(v => v with { Specialization = new ClsSpecializationConfig() }).Config;
        Assert.Equal(ClsSpecializationConfig.Default, spec.Specialization);
        Assert.Equal(86_567_656L + 7_125_504L, spec.ParamCount());
        Assert.Equal(VitConfig.BasePatch16.Gflops(), spec.Gflops()); // no extra FLOPs (the paper's claim)
        var anf = (VitConfig)vitB.With(v => v with { Anf = new AdaptiveNoiseFilterConfig(), Sta = new StructuredTokenAugmentationConfig() }).Config;
        Assert.Equal(86_567_656L + 11 * 595_200L, anf.ParamCount());
        Assert.Equal(VitConfig.BasePatch16.Gflops() * 1.073, anf.Gflops(), 1);

        var tiny = ModelRegistry.Get("vit_tiny_fm28");
        Assert.Throws<ArgumentException>(() => tiny.With(v => v with { Anf = new AdaptiveNoiseFilterConfig { KernelSize = 4 } }));
        Assert.Throws<ArgumentException>(() => tiny.With(v => v with { Specialization = new ClsSpecializationConfig { QkvBlocks = new BlockRange(0, 9) } }));
        Assert.Throws<ArgumentException>(() => ModelRegistry.Get("lvvit_tiny_fm28").With(v => v with { Sta = new StructuredTokenAugmentationConfig { NoiseSpace = StaNoiseSpace.Pixel } }));
    }

    /// <summary>The options on LV-ViT (conv stem, MixToken) and on non-square inputs (dynamic_img_size).</summary>
    [Fact]
    public void OptionsWorkWithTheTokenLabelingAndDynamicSizeOptions()
    {
        using var lvvit = ModelRegistry.CreateVit("lvvit_tiny_fm28", v => v with
        {
            Sta = new StructuredTokenAugmentationConfig { Tau = 10 },
            Anf = new AdaptiveNoiseFilterConfig { ConvAxis = AnfConvAxis.Grid2d },
            Specialization = new ClsSpecializationConfig(),
        });
        using var scope = Scope.Enter();
        var x = Torch.Torch.Randn([2, 1, 28, 28]);
        var output = lvvit.ForwardTokenLabeling(x);
        Assert.Equal([2L, 49, 10], output.AuxLogits.Shape);
        output.ClsLogits.Sum().Add(output.AuxLogits.Sum()).Backward();
        Assert.NotNull(lvvit.Blocks[0].Attn.QkvCls!.Weight!.Grad);
        Assert.NotNull(lvvit.Anf!.After(0)!.Conv.Parameters().First().Grad);

        using var dynamic = ModelRegistry.CreateVit("vit_tiny_fm28", v => v with
        {
            DynamicImgSize = true,
            Anf = new AdaptiveNoiseFilterConfig { ConvAxis = AnfConvAxis.Grid2d },
            Sta = new StructuredTokenAugmentationConfig(),
        });
        dynamic.Eval();
        var wide = Torch.Torch.Randn([1, 1, 28, 40]);
        Assert.Equal([1L, 1 + 7 * 10, 96], dynamic.ForwardFeatures(wide).Shape);
        var layer = dynamic.GetIntermediateLayers(wide, 1).Single();
        Assert.Equal([1L, 96, 7, 10], layer.Patches.Shape);
    }
}
