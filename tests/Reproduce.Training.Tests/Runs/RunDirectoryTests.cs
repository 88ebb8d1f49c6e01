using System.Text;
using System.Text.Json.Nodes;
using Reproduce.Training.Config;
using Reproduce.Torch.IO;
using Reproduce.Training.Runs;

namespace Reproduce.Training.Tests.Runs;

public class RunDirectoryTests
{
    private static RunConfig Config(params string[] overrides) => RunConfig.Load(null, ["name=demo", .. overrides]);

    [Fact]
    public void CreateWritesConfigAndStatusAndReopensTheSameRun()
    {
        using var dir = new TempDir();
        var config = Config("optim.lr=0.002");
        var run = RunDirectory.OpenOrCreate(dir.Path, config);
        Assert.Equal(Path.Combine(dir.Path, config.RunId()), run.Path);
        Assert.Equal(RunStatus.Resumable, run.Status);
        Assert.Equal("resumable\n", File.ReadAllText(Path.Combine(run.Path, RunDirectory.StatusFile)));
        var saved = RunConfig.FromJson(File.ReadAllText(Path.Combine(run.Path, RunDirectory.ConfigFile)));
        Assert.Equal(config.Hash(), saved.Hash());
        Assert.Equal(ConfigJson.Indented(config), File.ReadAllText(Path.Combine(run.Path, RunDirectory.ConfigFile)));

        var again = RunDirectory.OpenOrCreate(dir.Path, Config("optim.lr=2e-3"));
        Assert.Equal(run.Path, again.Path);
        Assert.Equal(run.Hash, RunDirectory.Open(run.Path).Hash);
    }

    [Fact]
    public void ASavedConfigThatDiffersIsReportedWithTheKeys()
    {
        using var dir = new TempDir();
        var config = Config();
        var run = RunDirectory.OpenOrCreate(dir.Path, config);
        File.WriteAllText(Path.Combine(run.Path, RunDirectory.ConfigFile), ConfigJson.Indented(Config("optim.lr=0.1")));
        var e = Assert.Throws<InvalidDataException>(() => RunDirectory.OpenOrCreate(dir.Path, config));
        Assert.Contains("optim.lr (0.1 vs 0.0005)", e.Message);
        Assert.Contains(run.Path, e.Message);
    }

    [Fact]
    public void MetricsAreAppendedOnePerLineAndATornLastLineIsDropped()
    {
        using var dir = new TempDir();
        var run = RunDirectory.OpenOrCreate(dir.Path, Config());
        run.Metrics.Append(new[] { KeyValuePair.Create("step", 1.0), KeyValuePair.Create("loss", 2.5) });
        run.Metrics.Append(new JsonObject { ["step"] = 2, ["loss"] = double.NaN, ["phase"] = "train" });
        Assert.Equal("{\"step\":1,\"loss\":2.5}\n{\"step\":2,\"loss\":null,\"phase\":\"train\"}\n", File.ReadAllText(run.Metrics.Path));

        // A kill in the middle of a write leaves a partial line: reading skips it, the next append cuts it off.
        File.AppendAllText(run.Metrics.Path, "{\"step\":3,\"lo");
        Assert.Equal(2, run.Metrics.Read().Count);
        var reopened = RunDirectory.Open(run.Path);
        reopened.Metrics.Append(new JsonObject { ["step"] = 3 });
        Assert.Equal([1.0, 2.0, 3.0], reopened.Metrics.Read().Select(r => r["step"]!.GetValue<double>()));
        Assert.EndsWith("{\"step\":3}\n", File.ReadAllText(run.Metrics.Path));

        Assert.Equal(1, reopened.Metrics.TruncateAfterStep(2));
        reopened.Metrics.Append(new JsonObject { ["event"] = "resumed" });
        Assert.Equal(3, reopened.Metrics.Read().Count);
        Assert.Equal(0, reopened.Metrics.TruncateAfterStep(2));   // records without a step stay
    }

    [Fact]
    public void FinishWritesFlatFinalJsonAndMarksTheRunFinished()
    {
        using var dir = new TempDir();
        var run = RunDirectory.OpenOrCreate(dir.Path, Config());
        Assert.Null(run.ReadFinal());
        var e = Assert.Throws<ArgumentException>(() => run.Finish(new JsonObject { ["nested"] = new JsonObject { ["a"] = 1 } }));
        Assert.Contains("'nested'", e.Message);
        Assert.False(run.IsFinished);
        run.Finish(new JsonObject { ["mIoU"] = 41.5, ["silog"] = double.PositiveInfinity, ["per_class_iou"] = new JsonArray(1.0, null, 3.0) });
        Assert.True(run.IsFinished);
        var final = run.ReadFinal()!;
        Assert.Equal(41.5, final["mIoU"]!.GetValue<double>());
        Assert.Null(final["silog"]);
        Assert.Equal(3, final["per_class_iou"]!.AsArray().Count);
        Assert.Equal(RunStatus.Finished, RunDirectory.Open(run.Path).Status);
    }
}
