using Reproduce.Training.Config;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Config;

/// <summary>The model's record as typed keys under <c>model.</c>, bound by the run config's binder.</summary>
public class ModelKeysTests
{
    private static VitConfig Vit(params string[] overrides) =>
        (VitConfig)RunConfig.Load(null, ["model.name=vit_tiny_fm28", .. overrides]).Model.Resolve().Config;

    [Fact]
    public void DottedKeysSetTheRegistryRecordAndItsNestedRecords()
    {
        var c = Vit("model.drop_path_rate=0.1", "model.num_classes=7", "model.anf.kernel_size=5", "model.anf.conv_axis=grid2d",
            "model.specialization.qkv_blocks=[0,1]", "model.global_pool=avg");
        Assert.Equal(0.1, c.DropPathRate);
        Assert.Equal(7, c.NumClasses);
        Assert.Equal(GlobalPool.Avg, c.GlobalPool);
        Assert.Equal(5, c.Anf!.KernelSize);
        Assert.Equal(AnfConvAxis.Grid2d, c.Anf.ConvAxis);
        Assert.Equal(new BlockRange(0, 1), c.Specialization!.QkvBlocks);
        Assert.True(c.Specialization.Norms);                       // the rest of a switched-on record is its defaults
        Assert.Null(c.Sta);
        Assert.Equal(96, c.EmbedDim);                              // keys not set keep the registry's values
    }

    [Fact]
    public void ListsAreJson()
    {
        Assert.Equal([0, 2], Vit("model.anf.after_blocks=[0, 2]").Anf!.AfterBlocks!);
        Assert.Equal([1], Vit("model.anf={\"after_blocks\": [1]}").Anf!.AfterBlocks!);
        Assert.Null(Vit("model.anf.after_blocks=null").Anf!.AfterBlocks);
        var e = Assert.Throws<ConfigException>(() => Vit("model.anf.after_blocks=[0, \"x\"]"));
        Assert.Contains("'model.anf.after_blocks[1]'", e.Message);
    }

    [Fact]
    public void NestedRecordsAreSwitchedOnByAnObjectOrAKeyAndOffByNull()
    {
        Assert.Equal(new StructuredTokenAugmentationConfig(), Vit("model.sta={}").Sta);
        Assert.Equal(0.5, Vit("model.sta={\"tau\": 0.5}").Sta!.Tau);
        Assert.Equal(0.5, Vit("model.sta.tau=0.5").Sta!.Tau);
        Assert.Null(Vit("model.sta={}", "model.sta=null").Sta);
        Assert.Equal(0.5, Vit("model.sta=null", "model.sta.tau=0.5").Sta!.Tau);
        var merged = Vit("model.sta.tau=0.5", "model.sta={\"alpha\": 2}").Sta!;   // an object merges into what is set
        Assert.Equal((0.5, 2.0), (merged.Tau, merged.Alpha));

        var config = RunConfig.Load(null, "model.name=vit_tiny_fm28", "model.sta={}", "model.anf=null");
        Assert.Contains("\"model\":{\"anf\":null,\"name\":\"vit_tiny_fm28\",\"sta\":{},\"weights\":null}", config.ToCanonicalJson());
    }

    [Fact]
    public void UnknownKeysListTheValidOnes()
    {
        var e = Assert.Throws<ConfigException>(() => Vit("model.drop_pth=0.1"));
        Assert.Contains("unknown key 'model.drop_pth'", e.Message);
        Assert.Contains("valid keys under 'model': name, weights, img_size, patch_size,", e.Message);
        Assert.Contains("drop_path_rate", e.Message);

        e = Assert.Throws<ConfigException>(() => Vit("model.anf.kernel=3"));
        Assert.Contains("unknown key 'model.anf.kernel'", e.Message);
        Assert.Contains("valid keys under 'model.anf': kernel_size, conv_axis, gate, after_blocks, conv_init_std", e.Message);

        e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "model.name=resnet18", "model.drop_path_rate=0.1"));
        Assert.Contains("unknown key 'model.drop_path_rate'", e.Message);
        Assert.Contains("layers", e.Message);                      // the ResNet record's keys

        e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "model.drop_path_rate=0.1", "model.name=resnet18"));
        Assert.Contains("'model.drop_path_rate'", e.Message);      // a new name re-checks the keys already set
    }

    [Fact]
    public void TypeErrorsNameTheKey()
    {
        var e = Assert.Throws<ConfigException>(() => Vit("model.depth=1.5"));
        Assert.Contains("'model.depth' expects integer, got '1.5'", e.Message);
        e = Assert.Throws<ConfigException>(() => Vit("model.mix_token=maybe"));
        Assert.Contains("'model.mix_token' expects bool", e.Message);
        e = Assert.Throws<ConfigException>(() => Vit("model.anf.conv_axis=diagonal"));
        Assert.Contains("'model.anf.conv_axis' expects one of sequence|grid2d|channels", e.Message);
        e = Assert.Throws<ConfigException>(() => Vit("model.skip_lam=nan"));
        Assert.Contains("'model.skip_lam'", e.Message);
        e = Assert.Throws<ConfigException>(() => Vit("model.sta=on"));
        Assert.Contains("'model.sta' is a section", e.Message);
        e = Assert.Throws<ConfigException>(() => Vit("model.anf.kernel_size=4"));   // the record's own validation
        Assert.Contains("kernel size 4 must be odd", e.Message);
    }

    [Fact]
    public void OldOverridesAndStringFormsMigrate()
    {
        var old = RunConfig.FromJson("""
            { "model": { "name": "vit_tiny_fm28", "overrides": { "num_classes": 10, "anf": "kernel_size=5,conv_axis=grid2d,after_blocks=0/2",
                                                              "sta": "on", "specialization": "norm+qkv+lora16,qkv_blocks=2:4" }, "weights": null },
              "sta": {}, "anf": {}, "specialization": {} }
            """);
        var c = (VitConfig)old.Model.Resolve().Config;
        Assert.Equal(10, c.NumClasses);
        Assert.Equal(new AdaptiveNoiseFilterConfig { KernelSize = 5, ConvAxis = AnfConvAxis.Grid2d, AfterBlocks = [0, 2] }, c.Anf);
        Assert.Equal(new StructuredTokenAugmentationConfig(), c.Sta);
        Assert.Equal(new ClsSpecializationConfig { LoraRank = 16, QkvBlocks = new BlockRange(2, 4) }, c.Specialization);
        Assert.DoesNotContain("overrides", old.ToCanonicalJson());

        var overrides = Vit("model.overrides.specialize=norm", "model.overrides.drop_path=0.2", "model.overrides.anf=none");
        Assert.Equal(ClsSpecializationConfig.NormsOnly, overrides.Specialization);
        Assert.Equal(0.2, overrides.DropPathRate);
        Assert.Null(overrides.Anf);
        Assert.Equal(new ClsSpecializationConfig { QkvBlocks = BlockRange.None, MlpBlocks = null }, Vit("model.overrides.specialization=norm+mlp").Specialization);

        var dead = Assert.Throws<ConfigException>(() => RunConfig.FromJson("""{ "sta": { "tau": 1 } }"""));
        Assert.Contains("model.sta", dead.Message);
        Assert.Throws<ConfigException>(() => RunConfig.Load(null, "sta.tau=1"));
    }

    [Fact]
    public void ExplicitKeysAreKeptAndHashedEvenAtTheirDefault()
    {
        var plain = RunConfig.Load(null, "model.name=lvvit_tiny_fm28");
        var explicitDefault = RunConfig.Load(null, "model.name=lvvit_tiny_fm28", "model.mix_token=true");
        Assert.False(plain.Model.IsSet("mix_token"));
        Assert.True(explicitDefault.Model.IsSet("mix_token"));
        Assert.NotEqual(plain.Hash(), explicitDefault.Hash());
        Assert.Equal(explicitDefault.Hash(), RunConfig.FromJson(ConfigJson.Indented(explicitDefault)).Hash());
    }

    [Fact]
    public void ModelCommandsTakeTheSameKeysWithOrWithoutTheModelPrefix()
    {
        var a = ModelSection.Resolve("vit_tiny_fm28", ["anf.kernel_size=5", "model.sta={}"]);
        var c = (VitConfig)a.Config;
        Assert.Equal(5, c.Anf!.KernelSize);
        Assert.NotNull(c.Sta);
        Assert.Throws<ConfigException>(() => ModelSection.Resolve("vit_tiny_fm28", ["bogus=1"]));
    }
}
