using System.Text.Json.Nodes;
using Reproduce.Torch.IO;
using Reproduce.Training.Config;
using Reproduce.Training.Probes;
using Reproduce.Training.Runs;

namespace Reproduce.Training.Tests.Probes;

/// <summary><c>reproduce probe cls</c> end to end on fashion-objects (random-init backbones), and its configuration errors.</summary>
[Collection(nameof(SerialTests))]
public sealed class ClassificationProbeRunTests : IDisposable
{
    // vit_tiny_scenes64 (D 96, depth 4) at 32 px: a 4 × 4 patch grid keeps a run to seconds.
    private static readonly string[] Small = ["threads=1", "model.img_size=32", "data.img_size=32", "data.batch_size=32", "data.eval_limit=500"];
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static RunConfig Config(params string[] sets) => ProbeRun.Resolve(ProbeTask.Classification, null, [.. Small, .. sets]);

    [Fact]
    public void AShortProbeOnARandomBackboneLearnsAndIsDeterministic()
    {
        // A random-init ViT's [CLS] is a weak feature, but a linear head on it is far above chance (10 %) on 500 test
        // images (σ of chance-level top-1 ≈ 1.3 points). Augmentation off: RandomResizedCrop down to 8 % of a 32 px image
        // costs more than 80 steps can recover.
        string[] sets = ["optim.steps=80", "probe.lrs=[1]", "aug.no_aug=true"];
        var final = ProbeRun.Run(Config(sets), _dir["a"]);
        var again = ProbeRun.Run(Config([.. sets, "data.workers=2"]), _dir["b"]);

        Assert.Equal(500, final["eval_images"]!.GetValue<long>());
        var top1 = Doubles(final["heads_top1"]);
        Assert.Equal(4, top1.Length); // n ∈ {1, 4} × avgpool ∈ {false, true} × one lr
        Assert.All(top1, t => Assert.InRange(t, 18.0, 100.0));
        Assert.Equal(top1.Max(), final["top1"]!.GetValue<double>());
        var best = Array.IndexOf(top1, top1.Max());
        Assert.Equal(Strings(final["heads"])[best], final["best_head"]!.GetValue<string>());
        Assert.InRange(final["top5"]!.GetValue<double>(), final["top1"]!.GetValue<double>(), 100.0);
        Assert.Equal(0.125, Doubles(final["heads_lr"])[0], 12); // lr 1 × batch 32 / 256

        // The same numbers with two loader threads: losses step by step, every head's scores, the trained heads.
        Assert.Equal(top1, Doubles(again["heads_top1"]));
        Assert.Equal(Doubles(final["heads_top5"]), Doubles(again["heads_top5"]));
        var losses = RunDirectory.Open(_dir["a"]).Metrics.Read().Select(m => m["loss"]!.GetValue<double>()).ToArray();
        Assert.Equal(80, losses.Length);
        Assert.Equal(losses, RunDirectory.Open(_dir["b"]).Metrics.Read().Select(m => m["loss"]!.GetValue<double>()));
        Assert.True(losses[^10..].Average() < losses[..10].Average(), "the summed cross-entropy falls");
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir["a"], ClassificationProbeRun.HeadsFile)), File.ReadAllBytes(Path.Combine(_dir["b"], ClassificationProbeRun.HeadsFile)));
        using var scope = Scope.Enter();
        var heads = SafeTensors.Load(Path.Combine(_dir["a"], ClassificationProbeRun.HeadsFile));
        var n = final["heads_n_last_blocks"]!.AsArray()[best]!.GetValue<int>() + (final["heads_avgpool"]!.AsArray()[best]!.GetValue<bool>() ? 1 : 0);
        Assert.Equal([10L, n * 96L], heads[$"classifiers_dict.{final["best_head"]}.linear.weight"].Shape);
        Assert.Equal(8, heads.Count); // weight and bias of four heads
    }

    [Fact]
    public void AugmentedBatchesDoNotDependOnTheLoaderThreads()
    {
        // DINOv2's RandomResizedCrop + flip, one generator per sample drawn from the run's stream.
        string[] sets = ["optim.steps=6", "data.eval_limit=64", "probe.n_last_blocks=[4]", "probe.avgpool=[true]"];
        var a = ProbeRun.Run(Config(sets), _dir["a"]);
        var b = ProbeRun.Run(Config([.. sets, "data.workers=3"]), _dir["b"]);
        Assert.Equal(a["train_loss"]!.GetValue<double>(), b["train_loss"]!.GetValue<double>());
        Assert.Equal(a["top1"]!.GetValue<double>(), b["top1"]!.GetValue<double>());
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir["a"], ClassificationProbeRun.HeadsFile)), File.ReadAllBytes(Path.Combine(_dir["b"], ClassificationProbeRun.HeadsFile)));
    }

    [Fact]
    public void BadInputIsAClearErrorNamingTheKey()
    {
        ConfigException Refused(string dir, params string[] sets)
        {
            var e = Assert.Throws<ConfigException>(() => ProbeRun.Run(Config(sets), _dir[dir]));
            Assert.False(Directory.Exists(_dir[dir]), $"{e.Key}: nothing is written before the configuration is checked");
            return e;
        }

        var task = Assert.Throws<ConfigException>(() => Config("probe.task=regression"));
        Assert.Contains("probe.task", task.Message);
        Assert.Contains("classification", task.Message); // the allowed values are listed

        var deep = Refused("deep", "probe.n_last_blocks=[1,5]");
        Assert.Equal("probe.n_last_blocks", deep.Key);
        Assert.Contains("n = 5", deep.Message);
        Assert.Contains("4 blocks", deep.Message);

        var empty = Assert.Throws<ConfigException>(() => Config("probe.lrs=[]"));
        Assert.Equal("probe.lrs", empty.Key);
        Assert.Equal("probe.lrs", Assert.Throws<ConfigException>(() => Config("probe.lrs=[0.1,-1]")).Key);
        Assert.Equal("probe.n_last_blocks", Assert.Throws<ConfigException>(() => Config("probe.n_last_blocks=[0]")).Key);
        Assert.Equal("probe.avgpool", Assert.Throws<ConfigException>(() => Config("probe.avgpool=[true,true]")).Key);
        Assert.Equal("optim.optimizer", Refused("adamw", "optim.optimizer=adamw").Key);
        Assert.Equal("optim.schedule", Refused("poly", "optim.schedule=poly").Key);
        Assert.Equal("model.class_token", Refused("gap", "model.class_token=false", "model.global_pool=avg").Key);
        Assert.Equal("data.dataset", Refused("scenes", "data.dataset=fashion-scenes").Key);

        // The grid keys belong to the classification probe; a dense probe names them.
        var dense = Assert.Throws<ConfigException>(() => ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.lrs=[0.1]"]));
        Assert.Equal("probe.lrs", dense.Key);
        Assert.Contains("probe.task=classification", dense.Message);

        var notRun = Assert.Throws<FileNotFoundException>(() => ProbeRun.Resolve(ProbeTask.Classification, null, [], fromRun: _dir["nothing"]));
        Assert.Contains("--from", notRun.Message);
    }

    [Fact]
    public void FromRunTakesTheRunsModelKeysAndWeightsAndIgnoresItsClassifier()
    {
        var trained = ConfigLoader.WithOverrides(new RunConfig(), ["model.name=vit_tiny_scenes64", "model.num_classes=10", "model.img_size=32"]);
        Directory.CreateDirectory(_dir["run"]);
        File.WriteAllText(Path.Combine(_dir["run"], RunDirectory.ConfigFile), ConfigJson.Indented(trained));
        var missing = Assert.Throws<FileNotFoundException>(() => ProbeRun.Resolve(ProbeTask.Classification, null, [], fromRun: _dir["run"]));
        Assert.Contains("model.safetensors", missing.Message);

        using var scope = Scope.Enter();
        Torch.Torch.ManualSeed(7);
        using var saved = new Vision.Models.VisionTransformer((Vision.Models.VitConfig)trained.Model.Resolve().Config);
        var weights = Path.Combine(_dir["run"], "model.safetensors");
        SafeTensors.SaveModule(weights, saved);
        var config = ProbeRun.Resolve(ProbeTask.Classification, null, ["threads=1"], fromRun: _dir["run"]);
        Assert.Equal("vit_tiny_scenes64", config.Model.Name);
        Assert.Equal(weights, config.Model.Weights);
        Assert.True(config.Model.IsSet("img_size"));
        using var backbone = ClassificationProbeRun.LoadBackbone(config); // head.* [10, 96] in the file, none in the backbone
        Assert.Equal(0, backbone.Config.NumClasses);
        foreach (var key in new[] { "blocks.3.mlp.fc2.weight", "norm.weight", "norm.bias" })
            Assert.True(backbone.StateDict()[key].Equal(saved.StateDict()[key]), $"{key} comes from the run's weights");
    }

    [Fact]
    public void AReleasedDinoV2CheckpointIsProbedThroughWeights()
    {
        // DINOv2's release layout (shrunk, tests/fixtures/released_heads/make_heads.py): no classifier, a final norm, a
        // mask token; the probe's backbone takes every key it has.
        var weights = Path.Combine(AppContext.BaseDirectory, "fixtures", "released_heads", "dinov2_vits14.pth");
        var config = ProbeRun.Resolve(ProbeTask.Classification, null,
        [
            "threads=1", "model.name=vit_small_patch14_dinov2", "model.embed_dim=8", "model.num_heads=2", "model.img_size=42", $"model.weights={weights}",
            "data.batch_size=4", "data.eval_limit=16", "optim.steps=2",
        ]);
        var final = ProbeRun.Run(config, _dir["released"]);
        Assert.Equal(16, final["eval_images"]!.GetValue<long>());
        using var scope = Scope.Enter();
        using var backbone = ClassificationProbeRun.LoadBackbone(config);
        using var fresh = ClassificationProbeRun.LoadBackbone(config with { Model = config.Model with { Weights = null } });
        Assert.False(backbone.StateDict()["norm.weight"].Equal(fresh.StateDict()["norm.weight"]), "the final norm comes from the release");
    }

    [Fact]
    public void TheNewKeysLeaveOtherProbesConfigsAndHashesAsTheyWere()
    {
        var seg = ProbeRun.Resolve(ProbeTask.Segmentation, null, []);
        var text = ConfigJson.Canonical(seg);
        Assert.DoesNotContain("n_last_blocks", text);
        Assert.DoesNotContain("avgpool", text);
        Assert.DoesNotContain("\"lrs\"", text);
        var cls = Config("probe.lrs=[0.1,0.01]");
        Assert.Contains("\"lrs\":[0.1,0.01]", ConfigJson.Canonical(cls));
    }

    private static double[] Doubles(JsonNode? node) => node!.AsArray().Select(v => v!.GetValue<double>()).ToArray();

    private static string[] Strings(JsonNode? node) => node!.AsArray().Select(v => v!.GetValue<string>()).ToArray();
}
