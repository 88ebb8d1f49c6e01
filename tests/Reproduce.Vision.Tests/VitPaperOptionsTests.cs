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

    public static TheoryData<string> OptionTexts => new()
    {
        "sta=tau=0.02,alpha=0.5,sigma=0.2,variance_domain=token_channels,noise_space=pixel,apply_in_eval=true",
        "anf=kernel_size=5,conv_axis=grid2d,gate=token,after_blocks=1/3,conv_init_std=0.01",
        "specialization=norm+qkv",
        "specialization=ln+qkv+mlp+lora4,qkv_blocks=0:2,mlp_blocks=1:3,lora_alpha=8,init_from_shared=false,registers_on_cls_path=true",
    };

    /// <summary>The options are overridable by name (--set), type-checked, and print in the form they parse from.</summary>
    [Theory]
    [MemberData(nameof(OptionTexts))]
    public void OptionsRoundTripThroughTheirTextForm(string assignment)
    {
        var entry = ModelRegistry.Resolve("vit_tiny_fm28", [ModelOptions.ParseAssignment(assignment)]);
        var values = ModelOptions.Values(entry.Config);
        Assert.Equal(entry.Config, entry.With(values).Config);
        var key = assignment[..assignment.IndexOf('=', StringComparison.Ordinal)];
        Assert.Equal(assignment[(key.Length + 1)..], values.Single(v => v.Key == key).Value);
    }

    [Fact]
    public void RegistryVariantsAreOptionsOnABaseModel()
    {
        var spec = (VitConfig)ModelRegistry.Resolve("vit_base_patch16_224", [new("specialize", "norm+qkv")]).Config;
        Assert.Equal(ClsSpecializationConfig.Default, spec.Specialization);
        Assert.Equal(86_567_656L + 7_125_504L, spec.ParamCount());
        Assert.Equal(VitConfig.BasePatch16.Gflops(), spec.Gflops()); // no extra FLOPs (the paper's claim)
        var anf = (VitConfig)ModelRegistry.Resolve("vit_base_patch16_224", [new("anf", "on"), new("sta", "on")]).Config;
        Assert.Equal(86_567_656L + 11 * 595_200L, anf.ParamCount());
        Assert.Equal(VitConfig.BasePatch16.Gflops() * 1.073, anf.Gflops(), 1);
        Assert.Equal("none|spec (ClsSpecializationConfig)", ModelOptions.Describe(typeof(VitConfig)).Single(o => o.Name == "specialization").Type);
        Assert.Null(((VitConfig)ModelRegistry.Resolve("vit_tiny_fm28", [new("specialization", "none")]).Config).Specialization);

        var unknown = Assert.Throws<ArgumentException>(() => ModelRegistry.Resolve("vit_tiny_fm28", [new("anf", "kernel=3")]));
        Assert.Contains("anf", unknown.Message);
        Assert.Contains("kernel_size", unknown.Message);
        Assert.Throws<ArgumentException>(() => ModelRegistry.Resolve("vit_tiny_fm28", [new("specialize", "norm+attn")]));
        Assert.Throws<ArgumentException>(() => ModelRegistry.Resolve("vit_tiny_fm28", [new("anf", "kernel_size=4")]));
        Assert.Throws<ArgumentException>(() => ModelRegistry.Resolve("lvvit_tiny_fm28", [new("sta", "noise_space=pixel")]));
    }

    /// <summary>The options on LV-ViT (conv stem, MixToken) and on non-square inputs (dynamic_img_size).</summary>
    [Fact]
    public void OptionsWorkWithTheTokenLabelingAndDynamicSizeOptions()
    {
        using var lvvit = ModelRegistry.CreateVit("lvvit_tiny_fm28", [new("sta", "tau=10"), new("anf", "conv_axis=grid2d"), new("specialize", "norm+qkv")]);
        using var scope = Scope.Enter();
        var x = Torch.Torch.Randn([2, 1, 28, 28]);
        var output = lvvit.ForwardTokenLabeling(x);
        Assert.Equal([2L, 49, 10], output.AuxLogits.Shape);
        output.ClsLogits.Sum().Add(output.AuxLogits.Sum()).Backward();
        Assert.NotNull(lvvit.Blocks[0].Attn.QkvCls!.Weight!.Grad);
        Assert.NotNull(lvvit.Anf!.After(0)!.Conv.Parameters().First().Grad);

        using var dynamic = ModelRegistry.CreateVit("vit_tiny_fm28", [new("dynamic_img_size", "true"), new("anf", "conv_axis=grid2d"), new("sta", "on")]);
        dynamic.Eval();
        var wide = Torch.Torch.Randn([1, 1, 28, 40]);
        Assert.Equal([1L, 1 + 7 * 10, 96], dynamic.ForwardFeatures(wide).Shape);
        var layer = dynamic.GetIntermediateLayers(wide, 1).Single();
        Assert.Equal([1L, 96, 7, 10], layer.Patches.Shape);
    }
}
