using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Heads;

namespace Reproduce.Vision.Tests;

/// <summary>GetIntermediateLayers (DINOv2/timm semantics) on the ViT.</summary>
public class IntermediateLayerTests
{
    private static VitConfig Tiny(ClsSpecializationConfig? spec = null) => new()
    {
        ImgSize = 12, PatchSize = 4, InChans = 3, NumClasses = 4, EmbedDim = 8, Depth = 4, NumHeads = 2, Specialization = spec,
    };

    [Fact]
    public void BlocksComeBackInRequestOrderAsRowMajorGrids()
    {
        using var model = new VisionTransformer(Tiny());
        model.Eval();
        using var scope = Scope.Enter();
        var x = Torch.Torch.Randn([2, 3, 12, 12]);
        var layers = model.GetIntermediateLayers(x, [3, 1]);
        Assert.Equal([3, 1], layers.Select(l => l.Block));
        Assert.All(layers, l => Assert.Equal([2L, 8, 3, 3], l.Patches.Shape));
        Assert.All(layers, l => Assert.Equal([2L, 8], l.ClassToken!.Shape));

        var tokens = model.ForwardBlock(1, model.ForwardBlock(0, model.EmbedTokens(x)));
        for (var r = 0; r < 3; r++)
            for (var c = 0; c < 3; c++)
                Assert.True(layers[1].Patches.Select(3, c).Select(2, r).Equal(tokens.Select(1, 1 + r * 3 + c)), $"patch ({r}, {c})");
        Assert.True(layers[1].ClassToken!.Equal(tokens.Select(1, 0)));

        Assert.Equal([2, 3], model.GetIntermediateLayers(x, 2).Select(l => l.Block));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.GetIntermediateLayers(x, [4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.GetIntermediateLayers(x, 5));
    }

    [Fact]
    public void NormedLastBlockIsForwardFeaturesIncludingTheClassPathNorm()
    {
        using var model = new VisionTransformer(Tiny(ClsSpecializationConfig.Default));
        using var scope = Scope.Enter();
        using (Torch.Torch.NoGrad()) model.NormCls!.Weight.Fill_(2.5); // the class token's final norm differs from the patches'
        model.Eval();
        var x = Torch.Torch.Randn([2, 3, 12, 12]);
        var features = model.ForwardFeatures(x);
        var last = model.GetIntermediateLayers(x, 1, norm: true).Single();
        Assert.True(last.ClassToken!.Equal(features.Select(1, 0)));
        Assert.True(last.Patches.Flatten(2).Transpose(1, 2).Equal(features.Narrow(1, 1, 9)));
        var raw = model.GetIntermediateLayers(x, 1).Single();
        Assert.False(raw.ClassToken!.Equal(last.ClassToken));
    }
}

/// <summary>The DINOv2 linear segmentation / depth probes and mmseg's FCN head.</summary>
public class DenseHeadTests
{
    private static VisionTransformer Backbone() => new(new VitConfig
    {
        ImgSize = 16, PatchSize = 4, InChans = 3, NumClasses = 0, EmbedDim = 8, Depth = 4, NumHeads = 2,
    });

    [Fact]
    public void ProbeLayerIndicesFollowDinov2()
    {
        Assert.Equal([11], ProbeLayerIndices.Segmentation(ProbeLayers.Lin1, 12));
        Assert.Equal([8, 9, 10, 11], ProbeLayerIndices.Segmentation(ProbeLayers.Lin4, 12));
        Assert.Equal([2, 5, 8, 11], ProbeLayerIndices.Depth(ProbeLayers.Lin4, 12));
        Assert.Equal([4, 11, 17, 23], ProbeLayerIndices.Depth(ProbeLayers.Lin4, 24));
        Assert.Equal([9, 19, 29, 39], ProbeLayerIndices.Depth(ProbeLayers.Lin4, 40));
        Assert.Equal([23], ProbeLayerIndices.Depth(ProbeLayers.Lin1, 24));
        Assert.Throws<ArgumentException>(() => ProbeLayerIndices.Segmentation(ProbeLayers.Lin4, 3));
    }

    [Theory]
    [InlineData(ProbeLayers.Lin1)]
    [InlineData(ProbeLayers.Lin4)]
    public void SegmentationHeadIsBatchNormThenALinearMapPerLocation(ProbeLayers choice)
    {
        using var vit = Backbone();
        using var head = LinearSegmentationHead.ForVit(8, choice, numClasses: 5);
        Assert.Equal(["bn.weight", "bn.bias", "conv_seg.weight", "conv_seg.bias"], head.NamedParameters().Select(p => p.Name));
        vit.Eval();
        using var scope = Scope.Enter();
        // Some BN statistics and biases, so the check is not trivial.
        using (Torch.Torch.NoGrad())
        {
            head.Bn.RunningMean.Copy_(Torch.Torch.Randn(head.Bn.RunningMean.Shape));
            head.Bn.RunningVar.Copy_(Torch.Torch.Rand(head.Bn.RunningVar.Shape).Add(0.5));
            head.ConvSeg.Bias!.Copy_(Torch.Torch.Randn([5]));
        }
        head.Eval();
        var x = Torch.Torch.Randn([2, 3, 16, 16]);
        var layers = vit.GetIntermediateLayers(x, ProbeLayerIndices.Segmentation(choice, 4));
        var logits = head.ForwardLogits(layers.Select(l => l.Patches).ToArray());
        Assert.Equal([2L, 5, 4, 4], logits.Shape);
        Assert.Equal([2L, 5, 16, 16], head.Forward(layers, 16, 16).Shape);

        var concat = Tensor.Cat(layers.Select(l => l.Patches).ToArray(), 1); // all maps are 4×4 already
        var bn = concat.Sub(head.Bn.RunningMean.Reshape(1, -1, 1, 1)).Div(head.Bn.RunningVar.Add(1e-5).Sqrt().Reshape(1, -1, 1, 1));
        var w = head.ConvSeg.Weight.Flatten(1);
        var expected = bn.Select(3, 2).Select(2, 1).Matmul(w.T()).Add(head.ConvSeg.Bias!);
        Assert.True(logits.Select(3, 2).Select(2, 1).Sub(expected).Abs().Max().ToDouble() < 1e-5);

        // Maps of another size are resized to the first one's before concatenation (DINOv2's resize_concat).
        if (choice == ProbeLayers.Lin4)
        {
            var maps = layers.Select(l => l.Patches).ToArray();
            maps[2] = F.Interpolate(maps[2], size: [8, 8]);
            Assert.Equal([2L, 5, 4, 4], head.ForwardLogits(maps).Shape);
        }
    }

    [Theory]
    [InlineData(ProbeLayers.Lin1)]
    [InlineData(ProbeLayers.Lin4)]
    public void DepthHeadGivesABinWeightedDepthWithinItsRange(ProbeLayers choice)
    {
        using var vit = Backbone();
        using var head = LinearDepthHead.ForVit(8, choice, minDepth: 0.5, maxDepth: 10);
        Assert.Equal(["conv_depth.weight", "conv_depth.bias"], head.NamedParameters().Select(p => p.Name));
        Assert.Equal([256L, 2 * 8 * (choice == ProbeLayers.Lin1 ? 1 : 4), 1, 1], head.ConvDepth.Weight.Shape);
        using var scope = Scope.Enter();
        using (Torch.Torch.NoGrad()) head.ConvDepth.Weight.Mul_(40.0); // large logits: many bins cut by the ReLU
        var x = Torch.Torch.Randn([2, 3, 16, 16]);
        var layers = vit.GetIntermediateLayers(x, ProbeLayerIndices.Depth(choice, 4));

        var features = head.Features(layers);
        Assert.Equal([2L, head.ConvDepth.Weight.Size(1), 16, 16], features.Shape); // ×4 of the 4×4 grid
        // Layout per layer: the (upsampled) patch map, then the class token broadcast to every location.
        var cls = features.Narrow(1, 8, 8);
        Assert.True(cls.Sub(layers[0].ClassToken!.Unsqueeze(-1).Unsqueeze(-1)).Abs().Max().ToDouble() < 1e-5);
        Assert.True(features.Narrow(1, 0, 8).Sub(F.Interpolate(layers[0].Patches, size: [16, 16])).Abs().Max().ToDouble() < 1e-6);

        var p = head.BinProbabilities(features);
        Assert.True(p.Sum(1).Sub(1.0).Abs().Max().ToDouble() < 1e-5);
        Assert.True(p.Min().ToDouble() > 0);
        var depth = head.Forward(layers);
        Assert.Equal([2L, 1, 16, 16], depth.Shape);
        Assert.InRange(depth.Min().ToDouble(), 0.5, 10);
        Assert.InRange(depth.Max().ToDouble(), 0.5, 10);
        Assert.True(depth.Max().ToDouble() - depth.Min().ToDouble() > 0.1, "depth is constant: the bins do not depend on the features");

        // One location by hand: (ReLU(l) + 0.1) normalised, times linspace(min, max, 256).
        var logit = F.Relu(head.ConvDepth.Forward(features)).Select(3, 5).Select(2, 7).Select(0, 1).To(ScalarType.Float64).ToArray<double>();
        var sum = logit.Sum(v => v + 0.1);
        var byHand = logit.Select((v, k) => (v + 0.1) / sum * (0.5 + k * 9.5 / 255)).Sum();
        Assert.Equal(byHand, depth.Select(0, 1).Select(0, 0).Select(0, 7).Select(0, 5).ToDouble(), 3);

        var predicted = head.Predict(layers, 30, 20);
        Assert.Equal([2L, 1, 30, 20], predicted.Shape);
        Assert.InRange(predicted.Min().ToDouble(), 0.5, 10);
        var noCls = layers.Select(l => l with { ClassToken = null }).ToArray();
        Assert.Throws<ArgumentException>(() => head.Forward(noCls));
    }

    [Fact]
    public void FcnHeadFollowsMmsegsLayout()
    {
        using var head = new FcnHead(inChannels: 8, channels: 6, numClasses: 5);
        Assert.Equal([
            "convs.0.conv.weight", "convs.0.bn.weight", "convs.0.bn.bias", "convs.1.conv.weight", "convs.1.bn.weight", "convs.1.bn.bias",
            "conv_cat.conv.weight", "conv_cat.bn.weight", "conv_cat.bn.bias", "conv_seg.weight", "conv_seg.bias",
        ], head.NamedParameters().Select(p => p.Name));
        Assert.Equal([6L, 8 + 6, 3, 3], head.ConvCat!.Conv.Weight.Shape);
        Assert.Contains("convs.0.bn.running_mean", head.StateDict().Keys);
        using var scope = Scope.Enter();
        var x = Torch.Torch.Randn([2, 8, 4, 4]);
        head.Eval();
        var logits = head.ForwardLogits(x);
        Assert.Equal([2L, 5, 4, 4], logits.Shape);
        Assert.True(logits.Equal(head.ForwardLogits(x)), "eval forward is not deterministic");
        var expected = head.ConvSeg.Forward(head.ConvCat.Forward(Tensor.Cat([x, head.Convs.Forward(x)], 1)));
        Assert.True(logits.Equal(expected));
        Assert.Equal([2L, 5, 16, 16], head.Forward(x, 16, 16).Shape);

        // Dropout2d in training (64 channels at p = 0.5: two equal masks have probability 2^-128).
        using var dropping = new FcnHead(8, 64, 5, dropoutRatio: 0.5);
        Assert.False(dropping.ForwardLogits(x).Equal(dropping.ForwardLogits(x)), "Dropout2d inactive in training");
        dropping.Eval();
        Assert.True(dropping.ForwardLogits(x).Equal(dropping.ForwardLogits(x)));

        using var plain = new FcnHead(8, 8, 5, numConvs: 0, concatInput: false, dropoutRatio: 0);
        Assert.Equal(["conv_seg.weight", "conv_seg.bias"], plain.NamedParameters().Select(p => p.Name));
        Assert.Throws<ArgumentException>(() => new FcnHead(8, 6, 5, numConvs: 0));
    }

    [Fact]
    public void FcnHeadOnViTPatchTokensTrains()
    {
        using var vit = Backbone();
        using var head = new FcnHead(8, 16, numClasses: 3, numConvs: 1);
        using var scope = Scope.Enter();
        var x = Torch.Torch.Randn([2, 3, 16, 16]);
        var map = vit.GetIntermediateLayers(x, [2]).Single().Patches;
        var logits = head.Forward(map, 16, 16);
        var target = Torch.Torch.Randint(0, 3, [2, 16, 16]);
        F.CrossEntropy(logits, target).Backward();
        Assert.All(head.Parameters(), p => Assert.NotNull(p.Grad));
        Assert.NotNull(vit.Blocks[2].Mlp.Fc2.Weight.Grad);
        Assert.Null(vit.Blocks[3].Mlp.Fc2.Weight.Grad); // block 3 is not run
    }
}
