using Reproduce.Torch.IO;
using Reproduce.Training.Annotation;
using Reproduce.Training.Config;
using Reproduce.Training.Probes;
using Reproduce.Training.Runs;
using Reproduce.Training.Train;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.FashionScenes;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Train;

/// <summary>
/// <c>data.workers</c>: training, evaluation, the probes and annotate build their batches off the main thread, and the
/// results are the same bits for 0 (on the main thread), 1 and 2 workers.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class InputWorkersTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TrainingAndEvaluationAreTheSameForZeroOneAndTwoWorkers()
    {
        // Two intra-op threads and colour jitter (a float mean per image) make the worker threads' libtorch thread count matter.
        string[] augmented = ["threads=2", "optim.steps=3", "data.eval_limit=24", "checkpoint.every_steps=0",
            "aug.randaugment=rand-m7-n2-mstd0.5-inc1", "aug.random_erasing=0.3", "aug.color_jitter=0.3", "aug.mixup=0.8"];
        var finals = new List<string>();
        var weights = new List<byte[]>();
        foreach (var workers in new[] { 0, 1, 2 })
        {
            var dir = _dir[$"w{workers}"];
            var result = Trainer.Run(TrainerTests.Config([.. augmented, $"data.workers={workers}"]), dir, new TrainOptions { LogEvery = 1 });
            var final = result.Final!.DeepClone().AsObject();
            finals.Add(final.ToJsonString());
            weights.Add(File.ReadAllBytes(Path.Combine(dir, Trainer.ModelWeightsFile)));
            Assert.Equal(3, RunDirectory.Open(dir).Metrics.Read().Count(r => r["train_loss"] is not null));
        }
        Assert.Equal(finals[0], finals[1]);
        Assert.Equal(finals[0], finals[2]);
        Assert.Equal(weights[0], weights[1]);
        Assert.Equal(weights[0], weights[2]);
    }

    [Fact]
    public void ProbesAreTheSameForZeroAndTwoWorkers()
    {
        var tiny = new FashionScenesConfig { Seed = 5, Height = 32, Width = 32, TrainCount = 6, TestCount = 3, MaxItems = 3 };
        FashionScenes.Write(tiny, _dir["scenes"], FashionMnist.Load("train"), FashionMnist.Load("test"));
        // Random crops (probe.slide) make the stream's draws depend on each decoded image's size.
        string Run(int workers)
        {
            var config = ProbeRun.Resolve(ProbeTask.Segmentation, null, ["model.name=vit_tiny_scenes64", "data.img_size=32", "model.img_size=32",
                "threads=2", $"data.root={_dir["scenes"]}", "optim.steps=3", "data.batch_size=2", "probe.slide=true", $"data.workers={workers}"]);
            var dir = _dir[$"probe-{workers}"];
            var final = ProbeRun.Run(config, dir);
            foreach (var k in new[] { "seconds", "train_seconds", "eval_seconds" }) final.Remove(k);
            return final.ToJsonString() + File.ReadAllText(Path.Combine(dir, RunDirectory.MetricsFile));
        }
        Assert.Equal(Run(0), Run(2));
    }

    [Fact]
    public void AnnotateWritesTheSameStoreForZeroAndTwoWorkers()
    {
        using (Scope.Enter())
        {
            Torch.Torch.ManualSeed(5);
            using var model = ModelRegistry.Get("resnet_tiny_fm28").Create();
            SafeTensors.SaveModule(_dir["teacher.safetensors"], model);
        }
        byte[] Annotate(int workers)
        {
            var options = new AnnotateOptions("resnet_tiny_fm28", _dir["teacher.safetensors"], "fashion-mnist", null, "test", 28, 3,
                _dir[$"labels{workers}.tls"], Limit: 10, BatchSize: 4, Workers: workers);
            Assert.Equal(10, Annotator.Run(options));
            return File.ReadAllBytes(options.Output);
        }
        Assert.Equal(Annotate(0), Annotate(2));
    }
}
