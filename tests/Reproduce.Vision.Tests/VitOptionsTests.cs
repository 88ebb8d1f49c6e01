using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Vision.Tests;

/// <summary>The ViT/DeiT/LV-ViT options: register tokens, no_embed_class, drop-path schedules, dynamic size, checkpoint resampling, the conv stem.</summary>
[Collection(nameof(SerialTests))]
public class VitOptionsTests
{
    private static VitConfig Small => new() { ImgSize = 16, PatchSize = 4, InChans = 3, NumClasses = 3, EmbedDim = 16, Depth = 2, NumHeads = 2 };

    [Fact]
    public void RegisterTokensAndNoEmbedClassShapeTheSequence()
    {
        using var model = new VisionTransformer(Small with { RegTokens = 3, NoEmbedClass = true });
        Assert.Equal(["cls_token", "reg_token", "pos_embed", "patch_embed.proj.weight"], model.NamedParameters().Take(4).Select(p => p.Name));
        Assert.Equal([1L, 3, 16], model.RegToken!.Shape);
        Assert.Equal([1L, 16, 16], model.PosEmbed.Shape); // patches only
        Assert.Equal(4, model.NumPrefixTokens);
        using var scope = Scope.Enter();
        var tokens = model.PosEmbedTokens(Torch.Torch.Zeros([2, 16, 16]));
        Assert.Equal([2L, 20, 16], tokens.Shape);
        Assert.True(tokens.Slice(1, 1, 4).Equal(model.RegToken.Expand(2, -1, -1)), "registers must carry no position embedding");
        Assert.True(tokens.Slice(1, 0, 1).Equal(model.ClsToken!.Expand(2, -1, -1)), "no_embed_class: the class token carries none either");

        using var withClassPos = new VisionTransformer(Small with { RegTokens = 2 });
        Assert.Equal([1L, 17, 16], withClassPos.PosEmbed.Shape); // class token + patches; registers never
        var t2 = withClassPos.PosEmbedTokens(Torch.Torch.Zeros([1, 16, 16]));
        Assert.True(t2.Slice(1, 0, 1).Equal(withClassPos.ClsToken!.Add(withClassPos.PosEmbed.Slice(1, 0, 1))));
        Assert.True(t2.Slice(1, 1, 3).Equal(withClassPos.RegToken!));
        Assert.Equal(Small.ParamCount() + 2 * 16, (Small with { RegTokens = 2 }).ParamCount());
    }

    [Fact]
    public void SkippingInitLeavesTheLayerDefaults()
    {
        using var model = new VisionTransformer(Small with { ClsTokenInitStd = 0.02 }, initWeights: false);
        using var scope = Scope.Enter();
        Assert.True(model.ClsToken!.Eq(0.0).All().ToInt64() == 1);
        Assert.True(model.PosEmbed.Eq(0.0).All().ToInt64() == 1);
        Assert.NotEqual(0.0, model.Head is Linear l ? l.Bias!.Abs().Sum().ToDouble() : 0); // PyTorch's U(±1/√in) bias, not timm's zeros
        Torch.Torch.ManualSeed(1);
        using var initialised = new VisionTransformer(Small with { ClsTokenInitStd = 0.02 });
        Assert.InRange(initialised.ClsToken!.Abs().Max().ToDouble(), 1e-3, 0.2);
    }

    [Fact]
    public void DropPathSchedules()
    {
        Assert.Equal([0.0, 0.1, 0.2, 0.3], VisionTransformer.DropPathRates(0.3, 4).Select(r => Math.Round(r, 6)));
        Assert.Equal([0.3, 0.3, 0.3, 0.3], VisionTransformer.DropPathRates(0.3, 4, DropPathSchedule.Uniform));
        using var model = new VisionTransformer(Small with { DropPathRate = 0.2, DropPathSchedule = DropPathSchedule.Uniform });
        Assert.All(model.Blocks, b => Assert.Equal(0.2, Assert.IsType<DropPath>(b.DropPath1).P));
    }

    [Fact]
    public void DynamicImageSizeAcceptsOtherGridsAndStrictModelsSayHow()
    {
        Torch.Torch.ManualSeed(6);
        using var strict = new VisionTransformer(Small);
        using var dynamic = new VisionTransformer(Small with { DynamicImgSize = true });
        using var scope = Scope.Enter();
        dynamic.LoadStateDict(strict.StateDict());
        strict.Eval();
        dynamic.Eval();
        using var _ = Torch.Torch.NoGrad();
        var x = Torch.Torch.Randn([2, 3, 16, 16]);
        Assert.True(dynamic.Forward(x).Equal(strict.Forward(x)), "at the configured size, dynamic and strict models must agree");
        Assert.Equal([2L, 1 + 6 * 3, 16], dynamic.ForwardFeatures(Torch.Torch.Randn([2, 3, 24, 12])).Shape);
        var ex = Assert.Throws<ArgumentException>(() => strict.Forward(Torch.Torch.Randn([2, 3, 24, 12])));
        Assert.Contains("dynamic_img_size", ex.Message);
        Assert.Throws<ArgumentException>(() => dynamic.Forward(Torch.Torch.Randn([2, 3, 18, 16])));
        Assert.Throws<ArgumentException>(() => dynamic.Forward(Torch.Torch.Randn([2, 1, 16, 16])));
    }

    [Fact]
    public void CheckpointsOfAnotherResolutionLoadThroughFilterCheckpoint()
    {
        Torch.Torch.ManualSeed(7);
        using var at16 = new VisionTransformer(Small);
        using var at24 = new VisionTransformer(Small with { ImgSize = 24 });
        using var scope = Scope.Enter();
        var state = at16.StateDict();
        var strictError = Assert.Throws<TorchException>(() => at24.LoadStateDict(state));
        Assert.Contains("pos_embed", strictError.Message);
        var filtered = at24.FilterCheckpoint(state);
        Assert.Equal([1L, 37, 16], filtered["pos_embed"].Shape);
        at24.LoadStateDict(filtered);
        Assert.True(at24.PosEmbed.Slice(1, 0, 1).Equal(at16.PosEmbed.Slice(1, 0, 1)), "the class token's row is kept");
        var expected = PosEmbedResampling.ResampleAbsPosEmbed(at16.PosEmbed, (6, 6), null, 1, antialias: false);
        Assert.True(at24.FilterCheckpoint(state, antialias: false)["pos_embed"].Equal(expected));
        Assert.Same(state["head.weight"], filtered["head.weight"]);
    }

    [Fact]
    public void ConvStemHasTokenLabelingsLayersAndBatchStatistics()
    {
        Torch.Torch.ManualSeed(8);
        var config = Small with { ImgSize = 32, PatchSize = 8, EmbedLayer = EmbedLayer.ConvStem, StemChannels = 8, SkipLam = 2 };
        using var model = new VisionTransformer(config);
        using var scope = Scope.Enter();
        Assert.Equal(
            ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked", "conv2.weight"],
            model.PatchEmbed.StateDict().Keys.Take(7));
        Assert.Equal([16L, 8, 4, 4], model.PatchEmbed.Proj.Weight.Shape);
        Assert.All(model.Blocks, b => Assert.Equal(2.0, b.SkipLam));
        var x = Torch.Torch.Randn([2, 3, 32, 32]);
        Assert.Equal([2L, 16, 4, 4], model.PatchEmbed.ForwardGrid(x).Shape);
        var bn1 = (BatchNorm2d)model.PatchEmbed.Stem[1];
        Assert.Equal(1L, bn1.NumBatchesTracked.ToInt64());
        Assert.False(bn1.RunningMean.Equal(Torch.Torch.Zeros([8])));
        Assert.Equal(config.ParamCount(), model.ParameterCount());
    }

    [Fact]
    public void InvalidTokenLabelingConfigsAreRejected()
    {
        static string Error(VitConfig c) => Assert.Throws<ArgumentException>(c.Validate).Message;
        Assert.Contains("mix_token needs return_dense", Error(Small with { MixToken = true }));
        Assert.Contains("fc_norm", Error(Small with { ReturnDense = true, GlobalPool = GlobalPool.Avg }));
        Assert.Contains("num_classes", Error(Small with { ReturnDense = true, NumClasses = 0 }));
        Assert.Contains("even patch", Error(Small with { ImgSize = 15, PatchSize = 5, EmbedLayer = EmbedLayer.ConvStem }));
        Assert.Contains("skip_lam", Error(Small with { SkipLam = 0 }));
        Assert.Contains("reg_tokens", Error(Small with { RegTokens = -1 }));
        (Small with { ReturnDense = true, GlobalPool = GlobalPool.Avg, FcNorm = false }).Validate();
    }
}
