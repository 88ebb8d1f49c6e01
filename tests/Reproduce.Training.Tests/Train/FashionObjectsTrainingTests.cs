using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Training.Config;
using Reproduce.Training.Probes;
using Reproduce.Training.Train;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.FashionScenes;

namespace Reproduce.Training.Tests.Train;

/// <summary>fashion-objects in the trainer: batches, config errors, and the train → probe path through the CLI.</summary>
[Collection(nameof(SerialTests))]
public sealed class FashionObjectsTrainingTests
{
    /// <summary>A seconds-long fashion-objects run of a 1-block, D 16 vit_tiny_scenes64 with a 10-class head.</summary>
    private static readonly string[] Smoke =
    [
        "name=fo-smoke", "profile=smoke", "seed=1", "threads=1", "model.name=vit_tiny_scenes64",
        "model.num_classes=10", "model.embed_dim=16", "model.depth=1", "model.num_heads=2",
        "data.dataset=fashion-objects", "data.train_limit=32", "data.eval_limit=16", "data.batch_size=8", "data.eval_batch_size=16",
        "aug.mixup=0", "aug.cutmix=0", "aug.randaugment=", "aug.random_erasing=0", "optim.steps=4", "optim.warmup_steps=1", "optim.lr=0.003",
        "checkpoint.every_steps=2", "checkpoint.every_epochs=0",
    ];

    private static RunConfig Config(params string[] extra) => RunConfig.Load((string?)null, [.. Smoke, .. extra]);

    [Fact]
    public void BatchIsTheModelsEvalTransformOfTheRenderedImagesWithTheItemsLabels()
    {
        var data = ClassificationData.Open(Config(), "test", 16);
        Assert.Equal(16, data.Count);
        Assert.Equal(10, data.NumClasses);
        Assert.Equal(3, data.Channels);
        using var scope = Scope.Enter();
        int[] idx = [3, 0, 15];
        var (x, y) = data.Batch(idx);
        Assert.Equal([3L, 3, 64, 64], x.Shape);
        Assert.Equal(ScalarType.Float32, x.DType);
        var items = FashionMnist.Load("test");
        Assert.Equal(idx.Select(i => (long)items.Labels[i]), y.ToArray<long>());
        // The fast path (render + normalise in C#) equals the generic one: the sample through the model's EvalTransform.
        var objects = new FashionObjects(items, "test", ClassificationData.FashionObjectsSeed);
        var reference = Tensor.Stack(idx.Select(i => data.Eval.Apply(objects.Load(i).Image)).ToList());
        Assert.True(x.Sub(reference).Abs().Max().ToDouble() < 1e-5, "fast batch differs from the EvalTransform of the samples");
        Assert.Equal(1.0, data.Eval.CropPct);
        Assert.Equal([0.485, 0.456, 0.406], data.Eval.Mean);
    }

    [Fact]
    public void ModelThatDoesNotFitTheDatasetIsRejectedNamingTheKey()
    {
        var noHead = Assert.Throws<ConfigException>(() => ClassificationData.Open(RunConfig.Load((string?)null,
            [.. Smoke.Where(s => !s.StartsWith("model.num_classes", StringComparison.Ordinal))]), "test", 4));
        Assert.Equal("model.num_classes", noHead.Key);
        Assert.Contains("num_classes=10", noHead.Message, StringComparison.Ordinal);
        var gray = Assert.Throws<ConfigException>(() => ClassificationData.Open(Config("model.name=vit_tiny_fm28"), "test", 4));
        Assert.Contains("1-channel", gray.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<ConfigException>(() => ClassificationData.Open(Config("data.dataset=cifar10"), "test", 4));
        Assert.Equal("data.dataset", unknown.Key);
        Assert.Contains("fashion-objects", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainedWeightsLoadAsTheProbesBackboneWithoutTheHead()
    {
        using var dir = new TempDir();
        var train = CliRunner.Run(["train", "--out", dir["run"], .. Smoke.SelectMany(s => new[] { "--set", s })]);
        Assert.True(train.ExitCode == 0, train.Stderr);
        var final = JsonNode.Parse(File.ReadAllText(dir["run/final.json"]))!.AsObject();
        Assert.Equal("fashion-objects", final["dataset"]!.GetValue<string>());
        Assert.Equal(16, final["eval_samples"]!.GetValue<int>());
        Assert.Equal(32, final["train_samples"]!.GetValue<int>());
        Assert.InRange(final["top1"]!.GetValue<double>(), 0, 100);

        var weights = dir["run/" + Trainer.ModelWeightsFile];
        using (Scope.Enter())
        {
            var saved = SafeTensors.Load(weights);
            Assert.Equal([10L, 16], saved["head.weight"].Shape);
            Assert.Equal([1L, 65, 16], saved["pos_embed"].Shape);

            // The probe's backbone (vit_tiny_scenes64 has no head) takes every other tensor from the file.
            var probeConfig = ProbeRun.Resolve(ProbeTask.Segmentation, null,
                ["model.embed_dim=16", "model.depth=1", "model.num_heads=2", $"model.weights={weights}"]);
            using var backbone = ProbeRun.LoadBackbone(probeConfig);
            var state = backbone.StateDict();
            Assert.DoesNotContain("head.weight", state.Keys);
            foreach (var (key, value) in state)
                Assert.True(value.Equal(saved[key]), $"probe backbone key '{key}' differs from the trained weights");
        }

        // And through the CLI: a 2-step probe on a tiny 64×64 scenes tree.
        FashionScenes.Write(new FashionScenesConfig { Seed = 2, Height = 64, Width = 64, TrainCount = 4, TestCount = 2, MaxItems = 3 },
            dir["scenes"], FashionMnist.Load("train"), FashionMnist.Load("test"));
        var probe = CliRunner.Run("probe", "seg", "--weights", weights, "--root", dir["scenes"], "--out", dir["probe"],
            "--set", "model.embed_dim=16", "--set", "model.depth=1", "--set", "model.num_heads=2",
            "--set", "optim.steps=2", "--set", "data.batch_size=2");
        Assert.True(probe.ExitCode == 0, probe.Stderr);
        Assert.NotNull(JsonNode.Parse(File.ReadAllText(dir["probe/final.json"]))!["mIoU"]);
    }
}
