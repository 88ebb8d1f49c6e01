using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;
using Reproduce.Training.Config;
using Reproduce.Training.Train;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Train;

/// <summary>model.weights (initial weights) and optim.layer_decay (timm's param_groups_layer_decay).</summary>
[Collection(nameof(SerialTests))]
public sealed class FineTuningTests
{
    [Fact]
    public void LayerDecayGroupsMatchAHandComputedTimmGrouping()
    {
        // depth 2 → timm layers: stem 0, blocks.0 → 1, blocks.1 → 2, norm → 3, head → 4; lr_scale = 0.5^(4 − layer).
        using var vit = ModelRegistry.CreateVit("vit_tiny_fm28", c => c with { Depth = 2, EmbedDim = 16, NumHeads = 2 });
        var groups = LayerDecayGroups.Create(vit, 0.05, 0.5, vit.NoWeightDecay());
        var byName = groups.ToDictionary(g => g.Name!);
        var names = vit.NamedParameters().ToDictionary(p => p.Parameter, p => p.Name);
        string[] Keys(string group) => byName[group].Parameters.Select(p => names[p]).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(["layer_0_no_decay", "layer_0_decay", "layer_1_no_decay", "layer_1_decay", "layer_2_no_decay", "layer_2_decay", "layer_3_no_decay", "layer_4_decay", "layer_4_no_decay"],
            groups.Select(g => g.Name!).ToArray());
        Assert.Equal(["cls_token", "patch_embed.proj.bias", "pos_embed"], Keys("layer_0_no_decay"));   // pos_embed/cls_token: no_weight_decay names
        Assert.Equal(["patch_embed.proj.weight"], Keys("layer_0_decay"));
        Assert.Equal(["blocks.1.attn.proj.weight", "blocks.1.attn.qkv.weight", "blocks.1.mlp.fc1.weight", "blocks.1.mlp.fc2.weight"], Keys("layer_2_decay"));
        Assert.Equal(["norm.bias", "norm.weight"], Keys("layer_3_no_decay"));
        Assert.Equal(["head.weight"], Keys("layer_4_decay"));
        Assert.Equal(["head.bias"], Keys("layer_4_no_decay"));
        var expectedScale = new Dictionary<int, double> { [0] = 0.0625, [1] = 0.125, [2] = 0.25, [3] = 0.5, [4] = 1.0 };
        foreach (var g in groups)
        {
            var layer = int.Parse(g.Name!.Split('_')[1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(expectedScale[layer], g.LrScale, 12);
            Assert.Equal(g.Name.EndsWith("no_decay", StringComparison.Ordinal) ? 0.0 : 0.05, g.WeightDecay);
        }
        Assert.Equal(vit.Parameters().Count(), groups.Sum(g => g.Parameters.Count));
    }

    [Fact]
    public void LayerDecayInTheTrainerScalesEachGroupsScheduledLr()
    {
        using var dir = new TempDir();
        var config = TrainerTests.Config("optim.layer_decay=0.5", "optim.steps=2", "optim.warmup_steps=0", "optim.schedule=constant", "optim.lr=0.001");
        var result = Trainer.Run(config, dir.Path);
        Assert.NotNull(result.Final);
        // metrics log group 0's lr: the stem (layer 0 of depth + 3 = 4 layers) → 0.001 · 0.5³
        var lr = File.ReadAllLines(dir["metrics.jsonl"]).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!).First(n => n["lr"] is not null)["lr"]!.GetValue<double>();
        Assert.Equal(0.001 * 0.125, lr, 12);
        var resnet = RunConfig.Load((string?)null, [.. TrainerTests.Smoke.Where(s => !s.StartsWith("model.", StringComparison.Ordinal)),
            "model.name=resnet_tiny_fm28", "optim.layer_decay=0.5"]);
        Assert.Equal("optim.layer_decay", Assert.Throws<ConfigException>(() => Trainer.Run(resnet, dir["resnet"])).Key);
    }

    [Fact]
    public void InitialWeightsLoadStrictlyExceptAHeadWithAnotherClassCount()
    {
        using var dir = new TempDir();
        Torch.Torch.ManualSeed(1);
        using var source = ModelRegistry.CreateVit("vit_tiny_fm28", c => c with { Depth = 1, EmbedDim = 16, NumHeads = 2 });
        SafeTensors.SaveModule(dir["w.safetensors"], source);

        // same classes: everything loads
        Torch.Torch.ManualSeed(2);
        using var same = ModelRegistry.CreateVit("vit_tiny_fm28", c => c with { Depth = 1, EmbedDim = 16, NumHeads = 2 });
        Assert.Empty(InitialWeights.Load(same, dir["w.safetensors"]));
        using (Scope.Enter())
            foreach (var (k, v) in source.StateDict()) Assert.True(v.Equal(same.StateDict()[k]), k);

        // 5 classes: the head keeps its init, the rest loads
        Torch.Torch.ManualSeed(3);
        using var other = ModelRegistry.CreateVit("vit_tiny_fm28", c => c with { Depth = 1, EmbedDim = 16, NumHeads = 2, NumClasses = 5 });
        using (Scope.Enter())
        {
            var headBefore = other.StateDict()["head.weight"].Clone();
            Assert.Equal(["head.bias", "head.weight"], InitialWeights.Load(other, dir["w.safetensors"]));
            Assert.True(other.StateDict()["head.weight"].Equal(headBefore));
            Assert.True(other.StateDict()["blocks.0.attn.qkv.weight"].Equal(source.StateDict()["blocks.0.attn.qkv.weight"]));
        }

        // another depth: strict, naming the key
        using var deeper = ModelRegistry.CreateVit("vit_tiny_fm28", c => c with { Depth = 2, EmbedDim = 16, NumHeads = 2 });
        var e = Assert.Throws<InvalidDataException>(() => InitialWeights.Load(deeper, dir["w.safetensors"]));
        Assert.Contains("missing key 'blocks.1.", e.Message, StringComparison.Ordinal);
        Assert.Contains("model.weights", Assert.Throws<FileNotFoundException>(() => InitialWeights.Load(deeper, dir["nope.safetensors"])).Message, StringComparison.Ordinal);

        // through the trainer: the run starts from the file (its step-0 eval would equal the source model's)
        var run = Trainer.Run(TrainerTests.Config("model.num_classes=10", $"model.weights={dir["w.safetensors"]}", "model.drop_path_rate=0"), dir["run"]);
        Assert.NotNull(run.Final);
    }
    [Fact]
    public void Bf16AutocastOnTheCpuTrainsCloseToFp32ButNotIdentically()
    {
        using var dir = new TempDir();
        double[] Losses(string name, params string[] extra)
        {
            var r = Trainer.Run(TrainerTests.Config(extra), dir[name], new TrainOptions { LogEvery = 1 });
            return r.Run.Metrics.Read().Where(m => m["train_loss"] is not null).Select(m => m["train_loss"]!.GetValue<double>()).ToArray();
        }
        var fp32 = Losses("fp32");
        var bf16 = Losses("bf16", "autocast_bf16=true");
        Assert.Equal(fp32.Length, bf16.Length);
        Assert.All(bf16, l => Assert.True(double.IsFinite(l)));
        var gap = fp32.Zip(bf16, (a, b) => Math.Abs(a - b)).Max();
        // bf16 keeps 8 significant bits: the runs part (autocast is on) but stay within a few bf16 roundings of a ~2.3 loss.
        Assert.True(gap > 0 && gap < 0.05, $"max |bf16 − fp32| train loss over {fp32.Length} steps = {gap:G3}");
        Assert.DoesNotContain("\"autocast_bf16\": true", File.ReadAllText(Path.Combine(dir["fp32"], "config.json")), StringComparison.Ordinal);
        Assert.Contains("\"autocast_bf16\": true", File.ReadAllText(Path.Combine(dir["bf16"], "config.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void Bf16AutocastOnADeviceWithoutBf16AndTf32OnTheCpuAreClearErrorsNotIgnored()
    {
        using var dir = new TempDir();
        // a CUDA index past the last device: no bf16 there on any machine, with or without CUDA
        var device = $"cuda:{Reproduce.Torch.Cuda.DeviceCount}";
        var bf16 = Assert.Throws<ConfigException>(() => Trainer.Run(TrainerTests.Config("autocast_bf16=true", $"device={device}"), dir["a"]));
        Assert.Equal("autocast_bf16", bf16.Key);
        Assert.Contains($"device '{device}' cannot run bf16 autocast", bf16.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir["a"]), "a refused run must write nothing");
        var tf32 = Assert.Throws<ConfigException>(() => Trainer.Run(TrainerTests.Config("tf32=true"), dir["b"]));
        Assert.Equal("tf32", tf32.Key);
        Assert.Contains("device is 'cpu'", tf32.Message, StringComparison.Ordinal);
    }
}
