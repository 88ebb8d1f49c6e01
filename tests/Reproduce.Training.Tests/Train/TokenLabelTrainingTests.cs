using Reproduce.Training.Config;
using Reproduce.Training.Runs;
using Reproduce.Training.Train;
using Reproduce.Vision.Data.TokenLabels;

namespace Reproduce.Training.Tests.Train;

/// <summary>Token labeling + MixToken training at smoke scale, from a hand-written token-label store.</summary>
[Collection(nameof(SerialTests))]
public class TokenLabelTrainingTests
{
    /// <summary>A store for train/00000 … train/00063: two classes per location (7×7 grid), seeded scores.</summary>
    internal static string WriteStore(string dir, int count = 64)
    {
        var path = Path.Combine(dir, "labels.tls");
        using var writer = new TokenLabelStoreWriter(path, topK: 2, height: 7, width: 7, numClasses: 10);
        using var g = new Generator(7);
        for (var i = 0; i < count; i++)
        {
            using var scope = Scope.Enter();
            var values = Torch.Torch.Randn([2, 7, 7], g).Abs().Add(Tensor.From<float>([2f, 0f], [2, 1, 1]));
            var first = i % 10;
            var indices = Tensor.From<long>([first, (first + 3) % 10], [2, 1, 1]).Expand([2, 7, 7]).Contiguous();
            writer.Add(TokenLabelTargets.Key("train", i), values, indices);
        }
        writer.Complete();
        return path;
    }

    internal static RunConfig Config(string store, params string[] extra) => TrainerTests.Config(
        [.. (string[])["token_label.enabled=true", $"token_label.source={store}", "aug.mixtoken=true", "aug.mixup=0", "aug.cutmix=0",
            "model.fc_norm=false"], .. extra]);

    [Fact]
    public void TrainsDeterministicallyAndResumesBitIdentically()
    {
        using var dir = new TempDir();
        var config = Config(WriteStore(dir.Path));
        var a = Trainer.Run(config, dir["a"], new TrainOptions { LogEvery = 1 });
        var b = Trainer.Run(config, dir["b"], new TrainOptions { LogEvery = 1, StopAfterStep = 3 });
        Assert.Null(b.Final);
        Torch.Torch.ManualSeed(123);
        b = Trainer.Run(config, dir["b"], new TrainOptions { LogEvery = 1, Resume = true });
        Assert.Equal(a.Final!.ToJsonString(), b.Final!.ToJsonString());
        Assert.Equal(File.ReadAllText(dir["a/" + RunDirectory.MetricsFile]), File.ReadAllText(dir["b/" + RunDirectory.MetricsFile]));
        Assert.True(double.IsFinite(a.Final["train_loss"]!.GetValue<double>()));

        // `eval` rebuilds the LV-ViT-style model (aux head, MixToken) and scores its eval forward: the trainer's numbers.
        var evaluated = EvalRun.Run(config, dir["a"], dir["eval"], CheckpointChoice.Last);
        Assert.Equal(a.Final["top1"]!.GetValue<double>(), evaluated["top1"]!.GetValue<double>());
        Assert.Equal(a.Final["top5"]!.GetValue<double>(), evaluated["top5"]!.GetValue<double>());
        Assert.True(File.Exists(dir["eval/" + RunDirectory.FinalFile]));
    }

    [Fact]
    public void DenseWeightChangesTheLoss()
    {
        using var dir = new TempDir();
        var store = WriteStore(dir.Path);
        var paper = Trainer.Run(Config(store, "optim.steps=1"), dir["paper"], new TrainOptions { LogEvery = 1 });
        var official = Trainer.Run(Config(store, "optim.steps=1", $"token_label.dense_weight={TokenLabelSection.OfficialDenseWeight}"), dir["official"],
            new TrainOptions { LogEvery = 1 });
        Assert.True(official.Final!["train_loss"]!.GetValue<double>() > paper.Final!["train_loss"]!.GetValue<double>());
    }

    [Fact]
    public void MissingMapNamesTheKey()
    {
        using var dir = new TempDir();
        var config = Config(WriteStore(dir.Path, count: 10));
        var e = Assert.Throws<KeyNotFoundException>(() => Trainer.Run(config, dir["run"]));
        Assert.Contains("train/000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MixTokenWithoutTokenLabelsIsRejected()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ConfigException>(() => Trainer.Run(TrainerTests.Config("aug.mixtoken=true"), dir["run"]));
        Assert.Contains("token_label.enabled", e.Message, StringComparison.Ordinal);
    }
}
