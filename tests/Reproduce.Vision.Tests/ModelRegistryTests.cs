using System.Text.Json;

namespace Reproduce.Vision.Tests;

/// <summary>Registry lookups and option overrides by name (type-checked, unknown keys rejected).</summary>
public class ModelRegistryTests
{
    [Fact]
    public void VariantsAreTypedCopiesOfTheRegisteredRecord()
    {
        var c = (VitConfig)ModelRegistry.Get("deit_small_patch16_224").With(v => v with
        {
            DropPathRate = 0.1,
            GlobalPool = GlobalPool.Avg,
            InitValues = 1e-5,
            RegTokens = 4,
            NoEmbedClass = true,
            DropPathSchedule = DropPathSchedule.Uniform,
        }).Config;
        Assert.Equal(0.1, c.DropPathRate);
        Assert.Equal(GlobalPool.Avg, c.GlobalPool);
        Assert.Equal(4, c.RegTokens);
        var stem = (VitConfig)ModelRegistry.Get("vit_small_patch16_224").With(v => v with { EmbedLayer = EmbedLayer.ConvStem, StemChannels = 32 }).Config;
        Assert.Equal(EmbedLayer.ConvStem, stem.EmbedLayer);
        // The registry's entry itself is unchanged.
        Assert.Equal(0.0, ((VitConfig)ModelRegistry.Get("deit_small_patch16_224").Config).DropPathRate);
    }

    [Fact]
    public void TokenLabelingOnAPlainViTIsAnOption()
    {
        var deit = ModelRegistry.Get("deit_small_patch16_224");
        var tl = deit.With(v => v with { ReturnDense = true, MixToken = true });
        Assert.Equal(deit.Config.ParamCount() + 384 * 1000 + 1000, tl.Config.ParamCount());
        Assert.True(tl.Summary().Gflops > deit.Summary().Gflops);
        using var model = ModelRegistry.CreateVit("vit_tiny_fm28", v => v with { ReturnDense = true, MixToken = true });
        Assert.NotNull(model.AuxHead);
        Assert.Contains("aux_head.weight", model.NamedParameters().Select(p => p.Name));
    }

    [Fact]
    public void InvalidVariantsAreRejectedNamingTheModel()
    {
        var invalid = Assert.Throws<ArgumentException>(() => ModelRegistry.Get("lvvit_s").With(v => v with { ReturnDense = false }));
        Assert.Contains("mix_token needs return_dense", invalid.Message);
        Assert.Contains("lvvit_s", invalid.Message);
        var wrongType = Assert.Throws<ArgumentException>(() => ModelRegistry.Get("resnet18").With(VitConfig.BasePatch16));
        Assert.Contains("ResNetConfig", wrongType.Message);
        Assert.Throws<ArgumentException>(() => ModelRegistry.CreateVit("resnet18"));

        var missing = Assert.Throws<ArgumentException>(() => ModelRegistry.Get("lvvit_xl"));
        Assert.Contains("lvvit_s", missing.Message);
    }

    [Fact]
    public void SummariesJsonHasTheDocumentedFields()
    {
        var summaries = ModelRegistry.All.Select(e => e.Summary()).ToList();
        using var doc = JsonDocument.Parse(ModelRegistry.SummariesJson(summaries));
        var items = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(summaries.Count, items.Count);
        var deit = items.Single(i => i.GetProperty("name").GetString() == "deit_small_patch16_224");
        Assert.Equal(22_050_664L, deit.GetProperty("params").GetInt64());
        Assert.Equal(4.5989, deit.GetProperty("gflops").GetDouble(), 4);
        Assert.Equal(224, deit.GetProperty("resolution").GetInt32());
        Assert.All(items, i => Assert.Equal(["name", "params", "gflops", "resolution"], i.EnumerateObject().Select(p => p.Name)));
    }

    [Fact]
    public void CreateBuildsTheRegisteredModel()
    {
        using var model = ModelRegistry.CreateVit("lvvit_tiny_fm28");
        Assert.Equal(ModelRegistry.Get("lvvit_tiny_fm28").Config.ParamCount(), model.ParameterCount());
        model.Eval();
        using var scope = Scope.Enter();
        using var _ = Torch.Torch.NoGrad();
        Assert.Equal([2L, 10], model.Forward(Torch.Torch.Randn([2, 1, 28, 28])).Shape);
        using var scenes = ModelRegistry.CreateVit("vit_tiny_scenes64");
        scenes.Eval();
        Assert.Equal([2L, 65, 96], scenes.ForwardFeatures(Torch.Torch.Randn([2, 3, 64, 64])).Shape);
    }
}
