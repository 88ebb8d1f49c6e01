using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Vision.Tests;

/// <summary>State-dict keys, shapes, parameter counts and initialisation against timm (seeds the default generator, so serial).</summary>
[Collection(nameof(SerialTests))]
public class VitLayoutTests
{
    /// <summary>timm's key scheme for a VisionTransformer, in state_dict() order.</summary>
    private static List<string> TimmKeys(int depth, bool qkvBias = true, bool layerScale = false, bool fcNorm = false, bool head = true)
    {
        var keys = new List<string> { "cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias" };
        for (var i = 0; i < depth; i++)
        {
            var b = $"blocks.{i}.";
            keys.AddRange([b + "norm1.weight", b + "norm1.bias", b + "attn.qkv.weight"]);
            if (qkvBias) keys.Add(b + "attn.qkv.bias");
            keys.AddRange([b + "attn.proj.weight", b + "attn.proj.bias"]);
            if (layerScale) keys.Add(b + "ls1.gamma");
            keys.AddRange([b + "norm2.weight", b + "norm2.bias", b + "mlp.fc1.weight", b + "mlp.fc1.bias", b + "mlp.fc2.weight", b + "mlp.fc2.bias"]);
            if (layerScale) keys.Add(b + "ls2.gamma");
        }
        keys.AddRange(fcNorm ? ["fc_norm.weight", "fc_norm.bias"] : ["norm.weight", "norm.bias"]);
        if (head) keys.AddRange(["head.weight", "head.bias"]);
        return keys;
    }

    // timm publishes 22.1M (ViT-S/16) and 5.7M (ViT-Ti/16) for the 1000-class models; the exact counts
    // follow from the layout: 22,050,664 and 5,717,416.
    [Theory]
    [InlineData("vit_tiny_patch16_224", 5_717_416L)]
    [InlineData("vit_small_patch16_224", 22_050_664L)]
    public void KeysShapesAndParameterCountMatchTimm(string timmName, long expectedParams)
    {
        var config = timmName.Contains("tiny") ? VitConfig.TinyPatch16 : VitConfig.SmallPatch16;
        using var model = new VisionTransformer(config);
        Assert.Equal(expectedParams, model.ParameterCount());

        var ours = model.NamedParameters().Select(p => (p.Name, p.Parameter.Shape)).ToList();
        Assert.Equal(TimmKeys(12), ours.Select(o => o.Name));

        var reference = Reference.Layout(timmName);
        Assert.Equal(expectedParams, reference.ParamCount);
        Assert.Equal(reference.Keys.Select(k => k.Key), ours.Select(o => o.Name));
        for (var i = 0; i < ours.Count; i++)
            Assert.True(reference.Keys[i].Shape.SequenceEqual(ours[i].Shape), $"{ours[i].Name}: shape {string.Join("x", ours[i].Shape)} vs timm {string.Join("x", reference.Keys[i].Shape)}");

        var d = config.EmbedDim;
        Assert.Equal([1L, 197, d], model.PosEmbed.Shape);
        Assert.Equal([(long)d, 3, 16, 16], model.PatchEmbed.Proj.Weight.Shape);
        Assert.Equal([3L * d, d], model.Blocks[0].Attn.Qkv.Weight.Shape);
        Assert.Equal([4L * d, d], model.Blocks[0].Mlp.Fc1.Weight.Shape);
    }

    [Fact]
    public void ForwardFlopsMatchTimmsMacCounts()
    {
        // 2 FLOPs per MAC; timm's model card lists 4.6 GMACs for DeiT-S/16 (the ViT-S/16 shape).
        Assert.Equal(4.60, VitConfig.SmallPatch16.ForwardMatmulFlops() / 2e9, 2);
        Assert.Equal(9_197_764_608.0, VitConfig.SmallPatch16.ForwardMatmulFlops());
    }

    [Fact]
    public void OptionalPartsChangeOnlyTheirOwnKeys()
    {
        var config = new VitConfig
        {
            ImgSize = 32, PatchSize = 8, EmbedDim = 32, Depth = 2, NumHeads = 4, NumClasses = 0,
            QkvBias = false, InitValues = 1e-5, GlobalPool = GlobalPool.Avg
        };
        using var model = new VisionTransformer(config);
        Assert.Equal(TimmKeys(2, qkvBias: false, layerScale: true, fcNorm: true, head: false), model.NamedParameters().Select(p => p.Name));
        Assert.IsType<Identity>(model.Norm);
        Assert.IsType<LayerNorm>(model.FcNorm);
        Assert.IsType<Identity>(model.Head);
        using var s = Scope.Enter();
        Assert.True(model.Blocks[1].Ls2.NamedParameters().Single().Parameter.Eq(1e-5).All().ToInt64() == 1);

        // No classes: Forward returns the pooled, fc-normed features.
        var x = Torch.Torch.Randn([3, 3, 32, 32]);
        Assert.Equal([3L, 32], model.Forward(x).Shape);
        Assert.Equal([3L, 17, 32], model.ForwardFeatures(x).Shape);
    }

    [Fact]
    public void TimmInitialisation()
    {
        Torch.Torch.ManualSeed(7);
        using var model = new VisionTransformer(VitConfig.TinyPatch16);
        using var s = Scope.Enter();
        static double Std(Tensor t) => t.Std([0, .. Enumerable.Range(1, t.Dim - 1).Select(i => (long)i)]).ToDouble();
        static double AbsMax(Tensor t) => t.Abs().Max().ToDouble();

        foreach (var (name, m) in model.NamedModules())
        {
            if (m is Linear l)
            {
                Assert.InRange(Std(l.Weight), 0.0188, 0.0212); // truncation at ±2 (100σ) is invisible here
                Assert.Equal(0.0, AbsMax(l.Bias!));
            }
            else if (m is LayerNorm n)
            {
                Assert.True(n.Weight!.Eq(1.0).All().ToInt64() == 1, $"{name}.weight is not ones");
                Assert.Equal(0.0, AbsMax(n.Bias!));
            }
        }
        Assert.InRange(Std(model.PosEmbed), 0.019, 0.021);
        var cls = AbsMax(model.ClsToken!);
        Assert.InRange(cls, 1e-8, 1e-5);
        var conv = model.PatchEmbed.Proj.Weight;
        Assert.True(AbsMax(conv) <= 1 / Math.Sqrt(3 * 16 * 16), "patch conv weight outside PyTorch's default U(±1/√fan_in)");
    }

    [Fact]
    public void InvalidConfigsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new VitConfig { EmbedDim = 100, NumHeads = 3 }.Validate());
        Assert.Throws<ArgumentException>(() => new VitConfig { ImgSize = 30, PatchSize = 16 }.Validate());
        Assert.Throws<ArgumentException>(() => new VitConfig { ClassToken = false }.Validate());
        Assert.Throws<ArgumentException>(() => new VitConfig { DropPathRate = 1.0 }.Validate());
        new VitConfig { ClassToken = false, GlobalPool = GlobalPool.Avg }.Validate();
    }
}
