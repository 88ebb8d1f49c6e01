using System.Text.Json;

namespace Reproduce.Vision.Tests;

/// <summary>Registry lookups and option overrides by name (type-checked, unknown keys rejected).</summary>
public class ModelRegistryTests
{
    private static KeyValuePair<string, string>[] Set(params string[] assignments) => assignments.Select(ModelOptions.ParseAssignment).ToArray();

    [Fact]
    public void OverridesAreAppliedByNameWithAliasesAndTypes()
    {
        var c = (VitConfig)ModelRegistry.Resolve("deit_small_patch16_224",
            Set("drop_path=0.1", "global_pool=avg", "init_values=1e-5", "reg-tokens=4", "no_embed_class=true", "drop_path_schedule=uniform")).Config;
        Assert.Equal(0.1, c.DropPathRate);
        Assert.Equal(GlobalPool.Avg, c.GlobalPool);
        Assert.Equal(1e-5, c.InitValues);
        Assert.Equal(4, c.RegTokens);
        Assert.True(c.NoEmbedClass);
        Assert.Equal(DropPathSchedule.Uniform, c.DropPathSchedule);
        Assert.Null(((VitConfig)ModelRegistry.Resolve("deit3_small_patch16_224", Set("init_values=none")).Config).InitValues);
        var stem = (VitConfig)ModelRegistry.Resolve("vit_small_patch16_224", Set("embed_layer=conv_stem", "stem_channels=32")).Config;
        Assert.Equal(EmbedLayer.ConvStem, stem.EmbedLayer);
        // The registry's entry itself is unchanged.
        Assert.Equal(0.0, ((VitConfig)ModelRegistry.Get("deit_small_patch16_224").Config).DropPathRate);
    }

    [Fact]
    public void TokenLabelingOnAPlainViTIsAnOption()
    {
        var deit = ModelRegistry.Get("deit_small_patch16_224");
        var tl = ModelRegistry.Resolve("deit_small_patch16_224", Set("return_dense=true", "mix_token=true"));
        Assert.Equal(deit.Config.ParamCount() + 384 * 1000 + 1000, tl.Config.ParamCount());
        Assert.True(tl.Summary().Gflops > deit.Summary().Gflops);
        using var model = ModelRegistry.CreateVit("vit_tiny_fm28", Set("return_dense=true", "mix_token=true"));
        Assert.NotNull(model.AuxHead);
        Assert.Contains("aux_head.weight", model.NamedParameters().Select(p => p.Name));
    }

    [Fact]
    public void BadOverridesAreRejectedWithTheKeyAndTheValidOptions()
    {
        var unknown = Assert.Throws<ArgumentException>(() => ModelRegistry.Resolve("lvvit_s", Set("drop_pth=0.1")));
        Assert.Contains("'drop_pth'", unknown.Message);
        Assert.Contains("lvvit_s", unknown.Message);
        Assert.Contains("drop_path_rate", unknown.Message);
        Assert.Contains("skip_lam", unknown.Message);

        var notInt = Assert.Throws<ArgumentException>(() => ModelRegistry.Resolve("lvvit_s", Set("depth=1.5")));
        Assert.Contains("'depth' expects an integer", notInt.Message);
        var notBool = Assert.Throws<ArgumentException>(() => ModelRegistry.Resolve("lvvit_s", Set("mix_token=maybe")));
        Assert.Contains("true or false", notBool.Message);
        var notEnum = Assert.Throws<ArgumentException>(() => ModelRegistry.Resolve("lvvit_s", Set("global_pool=max")));
        Assert.Contains("token or avg", notEnum.Message);
        var notFinite = Assert.Throws<ArgumentException>(() => ModelRegistry.Resolve("lvvit_s", Set("skip_lam=nan")));
        Assert.Contains("skip_lam", notFinite.Message);
        var invalid = Assert.Throws<ArgumentException>(() => ModelRegistry.Resolve("lvvit_s", Set("return_dense=false")));
        Assert.Contains("mix_token needs return_dense", invalid.Message);
        Assert.Contains("lvvit_s", invalid.Message);
        Assert.Throws<ArgumentException>(() => ModelOptions.ParseAssignment("depth"));

        var missing = Assert.Throws<ArgumentException>(() => ModelRegistry.Get("lvvit_xl"));
        Assert.Contains("lvvit_s", missing.Message);
    }

    [Fact]
    public void OptionValuesRoundTrip()
    {
        foreach (var entry in ModelRegistry.All)
        {
            var values = ModelOptions.Values(entry.Config);
            Assert.Equal(entry.Config, entry.With(values).Config);
        }
        var names = ModelOptions.Describe(typeof(VitConfig)).Select(o => o.Name).ToList();
        Assert.Contains("img_size", names);
        Assert.Contains("qkv_bias", names);
        Assert.Contains("cls_token_init_std", names);
        Assert.DoesNotContain("grid_size", names); // computed, not an option
        Assert.Equal("none|float", ModelOptions.Describe(typeof(VitConfig)).Single(o => o.Name == "init_values").Type);
        Assert.Equal("anf_kernel_size", ModelOptions.SnakeCase("ANFKernelSize"));
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
