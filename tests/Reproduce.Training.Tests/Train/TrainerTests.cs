using System.Text.Json.Nodes;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Config;
using Reproduce.Training.Runs;
using Reproduce.Training.Train;

namespace Reproduce.Training.Tests.Train;

/// <summary>The classification trainer at smoke scale on the real Fashion-MNIST (a few dozen images, a 1-block ViT).</summary>
[Collection(nameof(SerialTests))]
public class TrainerTests
{
    /// <summary>A seconds-long run: D 16, depth 1, 64 training images, batch 8, 8 optimizer updates.</summary>
    internal static readonly string[] Smoke =
    [
        "name=smoke", "profile=smoke", "seed=3", "threads=1", "model.name=vit_tiny_fm28",
        "model.embed_dim=16", "model.depth=1", "model.num_heads=2", "model.drop_path_rate=0.1",
        "data.train_limit=64", "data.eval_limit=48", "data.batch_size=8", "data.eval_batch_size=24",
        "aug.randaugment=", "aug.random_erasing=0", "optim.steps=8", "optim.warmup_steps=2", "optim.lr=0.003",
        "checkpoint.every_steps=2", "checkpoint.every_epochs=0",
    ];

    internal static RunConfig Config(params string[] extra) => RunConfig.Load((string?)null, [.. Smoke, .. extra]);

    private static TrainResult Train(RunConfig config, string dir, TrainOptions? options = null) =>
        Trainer.Run(config, dir, (options ?? new TrainOptions()) with { LogEvery = 1 });

    private static string Metrics(string dir) => File.ReadAllText(Path.Combine(dir, RunDirectory.MetricsFile));

    [Fact]
    public void SameConfigTwiceGivesIdenticalMetrics()
    {
        using var dir = new TempDir();
        var config = Config();
        var a = Train(config, dir["a"]);
        var b = Train(config, dir["b"]);
        Assert.NotNull(a.Final);
        Assert.Equal(a.Final!.ToJsonString(), b.Final!.ToJsonString());
        Assert.Equal(Metrics(dir["a"]), Metrics(dir["b"]));
        var lines = Metrics(dir["a"]).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(8 + 1, lines.Length);                       // a loss line per step, one evaluation at the end
        Assert.True(File.Exists(dir["a/config.json"]));
        Assert.True(File.Exists(dir["a/final.json"]));
        Assert.InRange(a.Final["top1"]!.GetValue<double>(), 0, 100);
    }

    [Theory]
    [InlineData(5, "optim.accumulation=1")]      // stopped one step after a checkpoint: step 5's log line is dropped on resume
    [InlineData(3, "optim.accumulation=2")]      // mixup + EMA + accumulation + clipping
    public void InterruptedAndResumedRunEqualsTheUninterruptedOne(int stopAt, string accumulation)
    {
        using var dir = new TempDir();
        var config = Config("aug.mixup=0.8", "aug.cutmix=1.0", "optim.ema=true", "optim.ema_decay=0.9", "optim.grad_clip=1.0", accumulation,
            "data.train_limit=96");
        var reference = Train(config, dir["ref"]);

        var first = Train(config, dir["run"], new TrainOptions { StopAfterStep = stopAt });
        Assert.Null(first.Final);
        Assert.False(first.Run.IsFinished);
        Torch.Torch.ManualSeed(999);                             // the new "process" starts from another generator state
        var resumed = Train(config, dir["run"], new TrainOptions { Resume = true });

        Assert.Equal(reference.Final!.ToJsonString(), resumed.Final!.ToJsonString());
        Assert.Equal(Metrics(dir["ref"]), Metrics(dir["run"]));
        Assert.NotNull(reference.Final["ema_top1"]);
    }

    [Fact]
    public void FinishedRunIsSkipped()
    {
        using var dir = new TempDir();
        var config = Config();
        var first = Train(config, dir.Path);
        var before = Metrics(dir.Path);
        var again = Train(config, dir.Path);
        Assert.True(again.Skipped);
        Assert.Equal(first.Final!.ToJsonString(), again.Final!.ToJsonString());
        Assert.Equal(before, Metrics(dir.Path));
    }

    [Fact]
    public void ExistingCheckpointsWithoutResumeIsAnErrorThatKeepsThem()
    {
        using var dir = new TempDir();
        var config = Config();
        Train(config, dir.Path, new TrainOptions { StopAfterStep = 4 });
        var before = Metrics(dir.Path);
        var e = Assert.Throws<InvalidOperationException>(() => Train(config, dir.Path));
        Assert.Contains("--resume", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Metrics(dir.Path));
        Assert.True(new CheckpointStore(Path.Combine(dir.Path, RunDirectory.CheckpointsDir)).HasCheckpoint);
    }

    [Fact]
    public void DivergingLossStopsWithAClearErrorAndKeepsTheLastGoodCheckpoint()
    {
        using var dir = new TempDir();
        var config = Config("optim.optimizer=sgd", "optim.lr=1e30", "optim.momentum=0", "optim.warmup_steps=0", "optim.schedule=constant",
            "checkpoint.every_steps=1", "aug.label_smoothing=0");
        var e = Assert.Throws<TrainingDivergedException>(() => Train(config, dir.Path));
        Assert.Contains("last good checkpoint", e.Message, StringComparison.Ordinal);
        var store = new CheckpointStore(Path.Combine(dir.Path, RunDirectory.CheckpointsDir));
        using var last = store.LoadLast();
        Assert.NotNull(last);
        Assert.False(File.Exists(dir["final.json"]));
    }

    [Fact]
    public void UnwritableOutputDirectoryIsAClearErrorThatWritesNothing()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["file"], "keep");
        var e = Assert.Throws<IOException>(() => Train(Config(), dir["file/run"]));
        Assert.Contains("file", e.Message, StringComparison.Ordinal);
        Assert.Equal("keep", File.ReadAllText(dir["file"]));
    }

    [Fact]
    public void AnotherConfigInTheSameDirectoryIsRejectedAndLeavesItIntact()
    {
        using var dir = new TempDir();
        Train(Config(), dir.Path, new TrainOptions { StopAfterStep = 2 });
        var config = File.ReadAllText(dir["config.json"]);
        var e = Assert.Throws<InvalidDataException>(() => Train(Config("optim.lr=0.01"), dir.Path));
        Assert.Contains("optim.lr", e.Message, StringComparison.Ordinal);
        Assert.Equal(config, File.ReadAllText(dir["config.json"]));
    }

    [Fact]
    public void UnsupportedFeatureIsRejectedNamingTheKey()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ConfigException>(() => Train(Config("token_label.label_size=14"), dir["run"]));
        Assert.Contains("token_label.label_size", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir["run"]));
    }
}
