using Reproduce.Training.Config;
using Reproduce.Vision.Metrics;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Config;

public class ConfigLoaderTests
{
    [Fact]
    public void DefaultsAreTheRecordInitialisers()
    {
        var c = RunConfig.Load((string?)null);
        Assert.Equal(new RunConfig().ToCanonicalJson(), c.ToCanonicalJson());
        Assert.Equal(5e-4, c.Optim.Lr);
        Assert.Equal([0.9, 0.999], c.Optim.Betas);
        Assert.Equal(OptimizerKind.AdamW, c.Optim.Optimizer);
        Assert.Equal(TokenLabelSection.PaperDenseWeight, c.TokenLabel.DenseWeight);
        Assert.Equal(1.0, TokenLabelSection.OfficialDenseWeight);
        Assert.Equal(Profile.Quick, c.Profile);
        Assert.Empty(c.Model.Keys);
    }

    [Fact]
    public void JsonFileSetsASubsetAndNestedBlocksMerge()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["a.json"], """
            {
              // comments and trailing commas are allowed
              "name": "tl-smoke",
              "profile": "smoke",
              "optim": { "lr": 0.001, "betas": [0.9, 0.95], "steps": 40, },
              "model": { "name": "lvvit_s", "drop_path_rate": 0.1, "skip_lam": 1.5, "init_values": null, "anf": { "kernel_size": 5 } },
              "token_label": { "enabled": true, "source": "labels/", "dense_weight": 1.0, "class_target": "annotator" },
              "data": { "interpolation": "bicubic", "mean": [0.5], "std": [0.25] },
              "probe": { "depth_crop": "eigen_nyu", "layers": [2, 5, 8, 11] }
            }
            """);
        var c = RunConfig.Load(dir["a.json"]);
        Assert.Equal("tl-smoke", c.Name);
        Assert.Equal(Profile.Smoke, c.Profile);
        Assert.Equal(0.001, c.Optim.Lr);
        Assert.Equal(0.05, c.Optim.WeightDecay);          // untouched keys keep their defaults
        Assert.Equal([0.9, 0.95], c.Optim.Betas);
        Assert.Equal(40L, c.Optim.Steps);
        Assert.Equal("lvvit_s", c.Model.Name);
        var vit = (VitConfig)c.Model.Resolve().Config;
        Assert.Equal(0.1, vit.DropPathRate);
        Assert.Equal(1.5, vit.SkipLam);
        Assert.Null(vit.InitValues);
        Assert.Equal(5, vit.Anf!.KernelSize);
        Assert.Equal(AnfConvAxis.Sequence, vit.Anf.ConvAxis);   // the rest of a switched-on record is its defaults
        Assert.Null(vit.Sta);
        Assert.True(c.TokenLabel.Enabled);
        Assert.Equal(ClassTarget.Annotator, c.TokenLabel.ClassTarget);
        Assert.Equal(1.0, c.TokenLabel.DenseWeight);
        Assert.Equal(InterpolationMode.Bicubic, c.Data.Interpolation);
        Assert.Equal(DepthCrop.EigenNyu, c.Probe.DepthCrop);
        Assert.Equal([2, 5, 8, 11], c.Probe.Layers);
    }

    [Fact]
    public void OverridesByDottedPathAreTypedAndApplyAfterFilesInOrder()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["a.json"], """{ "optim": { "lr": 0.001 }, "data": { "img_size": 28 } }""");
        var c = RunConfig.Load([dir["a.json"]], [
            "optim.lr=5e-4", "model.name=deit_small_patch16_224", "optim.betas=0.8, 0.9", "optim.optimizer=sgd",
            "aug.randaugment=none", "data.img_size=null", "token_label.class_target=ground-truth", "model.drop_path_rate=0.2",
            "model.specialization.qkv_blocks=[0, 2]", "optim.ema=TRUE", "profile=full", "seed=3", "optim.steps=1e3",
            "optim.betas=[0.7, 0.75]", "data.mean=", "checkpoint.mode=min", "model.weights=w.safetensors",
        ]);
        Assert.Equal(5e-4, c.Optim.Lr);
        Assert.Equal("deit_small_patch16_224", c.Model.Name);
        Assert.Equal([0.7, 0.75], c.Optim.Betas);
        Assert.Equal(OptimizerKind.Sgd, c.Optim.Optimizer);
        Assert.Null(c.Aug.Randaugment);
        Assert.Null(c.Data.ImgSize);
        Assert.Equal(ClassTarget.GroundTruth, c.TokenLabel.ClassTarget);
        var vit = (VitConfig)c.Model.Resolve().Config;
        Assert.Equal(0.2, vit.DropPathRate);
        Assert.Equal(new BlockRange(0, 2), vit.Specialization!.QkvBlocks);
        Assert.True(c.Optim.Ema);
        Assert.Equal(Profile.Full, c.Profile);
        Assert.Equal(3L, c.Seed);
        Assert.Equal(1000L, c.Optim.Steps);
        Assert.Equal(Array.Empty<double>(), c.Data.Mean);
        Assert.Equal(MetricMode.Min, c.Checkpoint.Mode);
        Assert.Equal("w.safetensors", c.Model.Weights);

        var viaJson = RunConfig.Load(null, "optim={\"lr\": 0.002, \"ema\": true}");
        Assert.Equal(0.002, viaJson.Optim.Lr);
        Assert.True(viaJson.Optim.Ema);
    }

    [Theory]
    [InlineData("optim.lr=abc", "optim.lr", "expects float, got 'abc'")]
    [InlineData("data.batch_size=1.5", "data.batch_size", "expects integer, got '1.5'")]
    [InlineData("data.batch_size=3000000000", "data.batch_size", "outside the 32-bit integer range")]
    [InlineData("optim.ema=yes", "optim.ema", "expects bool (true/false), got 'yes'")]
    [InlineData("optim.optimizer=adam", "optim.optimizer", "expects one of adamw|sgd|lamb, got 'adam'")]
    [InlineData("optim.betas=0.9,x", "optim.betas[1]", "expects list of float")]
    [InlineData("optim.lr=NaN", "optim.lr", "not a finite number")]
    [InlineData("optim.lr=null", "optim.lr", "expects float, got 'null'")]
    public void OverrideTypeErrorsNameTheOverrideAndTheKey(string over, string key, string fragment)
    {
        var e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, over));
        Assert.Contains($"override '{over}'", e.Message);
        Assert.Contains($"'{key}'", e.Message);
        Assert.Contains(fragment, e.Message);
        Assert.Equal(key, e.Key);
    }

    [Theory]
    [InlineData("""{ "optim": { "lr": "0.1" } }""", "optim.lr", "expects float, got a string (\"0.1\")")]
    [InlineData("""{ "optim": 3 }""", "optim", "expects an object (a section with keys optimizer, lr,")]
    [InlineData("""{ "data": { "batch_size": null } }""", "data.batch_size", "cannot be null (expects integer)")]
    [InlineData("""{ "data": { "batch_size": 64.5 } }""", "data.batch_size", "expects integer, got a number (64.5)")]
    [InlineData("""{ "optim": { "betas": [0.9, "x"] } }""", "optim.betas[1]", "expects list of float, got a string")]
    [InlineData("""{ "profile": "medium" }""", "profile", "expects one of smoke|quick|full, got \"medium\"")]
    [InlineData("""{ "model": { "anf": { "kernel_size": { "a": 1 } } } }""", "model.anf.kernel_size", "expects integer, got an object")]
    [InlineData("""{ "model": { "sta": 1 } }""", "model.sta", "expects an object (keys tau, alpha, sigma")]
    public void JsonTypeErrorsNameTheFileAndTheKey(string json, string key, string fragment)
    {
        using var dir = new TempDir();
        var path = dir["bad.json"];
        File.WriteAllText(path, json);
        var e = Assert.Throws<ConfigException>(() => RunConfig.Load(path));
        Assert.Contains($"config file '{path}'", e.Message);
        Assert.Contains($"'{key}'", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void UnknownKeysAreRejectedWithTheValidKeysOfThatLevel()
    {
        var e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "optim.lrr=1"));
        Assert.Contains("unknown key 'optim.lrr'", e.Message);
        Assert.Contains("valid keys under 'optim': optimizer, lr, weight_decay, betas, eps, momentum, schedule, epochs, steps,", e.Message);

        using var dir = new TempDir();
        File.WriteAllText(dir["a.json"], """{ "model": { "name": "x" }, "learning_rate": 1 }""");
        e = Assert.Throws<ConfigException>(() => RunConfig.Load(dir["a.json"]));
        Assert.Contains("unknown key 'learning_rate'", e.Message);
        Assert.Contains("valid keys at the top level: name, profile, seed, device, threads, autocast_bf16, tf32, model, data, optim, aug, token_label, probe, checkpoint", e.Message);

        File.WriteAllText(dir["b.json"], """{ "token_label": { "beta": 0.5 } }""");
        e = Assert.Throws<ConfigException>(() => RunConfig.Load(dir["b.json"]));
        Assert.Contains("unknown key 'token_label.beta'", e.Message);
        Assert.Contains("enabled, cls_weight, dense_weight, class_target, source, label_size, topk", e.Message);

        e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "optim.lr.x=1"));
        Assert.Contains("goes below 'optim.lr'", e.Message);
        e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "optim=3"));
        Assert.Contains("'optim' is a section", e.Message);
        e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "model.drop_path_rate.x=3"));
        Assert.Contains("goes below 'model.drop_path_rate'", e.Message);
        e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "no-equals-sign"));
        Assert.Contains("key=value", e.Message);
    }

    [Fact]
    public void InvalidValuesNameTheKey()
    {
        var e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "optim.betas=0.9"));
        Assert.Contains("'optim.betas' must be two values in [0, 1)", e.Message);
        e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "name=my run"));
        Assert.Contains("'name'", e.Message);
        e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "token_label.enabled=true"));
        Assert.Contains("'token_label.source'", e.Message);
        e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "device=gpu"));
        Assert.Contains("'device' must be cpu, cuda or cuda:N", e.Message);
        e = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "data.batch_size=0"));
        Assert.Equal("data.batch_size", e.Key);
    }

    [Fact]
    public void BadFilesAreReportedWithPathAndLine()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ConfigException>(() => RunConfig.Load(dir["missing.json"]));
        Assert.Contains(dir["missing.json"], e.Message);
        File.WriteAllText(dir["broken.json"], "{\n  \"optim\": {\n    \"lr\": 0.1\n  \n");
        e = Assert.Throws<ConfigException>(() => RunConfig.Load(dir["broken.json"]));
        Assert.Contains($"config file '{dir["broken.json"]}': invalid JSON at line", e.Message);
        File.WriteAllText(dir["dup.json"], """{ "seed": 1, "seed": 2 }""");
        e = Assert.Throws<ConfigException>(() => RunConfig.Load(dir["dup.json"]));
        Assert.Contains("dup.json", e.Message);
        File.WriteAllText(dir["array.json"], "[1, 2]");
        e = Assert.Throws<ConfigException>(() => RunConfig.Load(dir["array.json"]));
        Assert.Contains("top level must be a JSON object", e.Message);
    }

    [Fact]
    public void DescribeListsEveryKeyWithTypeAndDefault()
    {
        var keys = ConfigLoader.Describe<RunConfig>().ToDictionary(k => k.Key);
        Assert.Equal("float", keys["optim.lr"].Type);
        Assert.Equal("0.0005", keys["optim.lr"].Default);
        Assert.Equal("one of adamw|sgd|lamb", keys["optim.optimizer"].Type);
        Assert.Equal("\"adamw\"", keys["optim.optimizer"].Default);
        Assert.Equal("integer or null", keys["data.img_size"].Type);
        Assert.Equal("list of float", keys["optim.betas"].Type);
        Assert.Equal("float", keys["model.drop_path_rate"].Type);
        Assert.Equal("section or null (null = off; 'model.anf={}' for its defaults)", keys["model.anf"].Type);
        Assert.Equal("3", keys["model.anf.kernel_size"].Default);
        Assert.Equal("block range [start, end] (end exclusive) or null", keys["model.specialization.qkv_blocks"].Type);
        Assert.Equal("one of none|eigen_nyu|garg_kitti|eigen_kitti", keys["probe.depth_crop"].Type);
    }
}
