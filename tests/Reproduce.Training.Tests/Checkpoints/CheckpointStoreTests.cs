using System.Text.Json.Nodes;
using Reproduce.Torch.Nn;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Config;
using Reproduce.Torch.IO;

namespace Reproduce.Training.Tests.Checkpoints;

/// <summary>Saving, loading, retention (last / best / top-k) and crash safety of the checkpoint store.</summary>
[Collection(nameof(SerialTests))]
public class CheckpointStoreTests
{
    private static byte[] Weights(Module m)
    {
        using var scope = Scope.Enter();
        return m.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.ToBytes()).ToArray();
    }

    private static TrainingComponents Only(Module m) => new() { Model = m, IncludeDefaultGenerator = false };

    private static IEnumerable<string> Entries(string dir) =>
        Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    [Fact]
    public void RoundTripRestoresEverythingAndKeepsTheProgress()
    {
        using var dir = new TempDir();
        var config = RunConfig.Load(null, "name=ckpt-test");
        var store = new CheckpointStore(dir.Path, keepTopK: 1, metric: "top1", mode: MetricMode.Max);
        Assert.False(store.HasCheckpoint);
        Assert.Null(store.LoadLast());
        using var run = new TinyRun(1, 2);
        run.Train(3);
        var saved = run.Snapshot();
        var name = store.Save(run.Components, run.Progress(metric: 0.5), config);
        Assert.StartsWith("ckpt-0000000003-", name);
        Assert.Equal(new[] { CheckpointStore.ManifestFile, name }.Order(StringComparer.Ordinal), Entries(dir.Path));
        Assert.Equal(["meta.json", "state.safetensors"], Entries(Path.Combine(dir.Path, name)));

        run.Train(2);   // move everything on, then go back
        using var ckpt = store.LoadLast()!;
        Assert.Equal(3, ckpt.Step);
        Assert.Equal(0.5, ckpt.Metric);
        Assert.Equal(config.Hash(), ckpt.ConfigHash);
        Assert.True(ckpt.HasEma);
        Assert.Equal(config.Hash(), RunConfig.FromJson(ckpt.Meta["config"]!.ToJsonString()).Hash());
        var progress = ckpt.Restore(run.Components);
        Assert.Equal(saved.Keys.Order(), run.Snapshot().Keys.Order());
        foreach (var (k, v) in run.Snapshot()) Assert.True(v.AsSpan().SequenceEqual(saved[k]), $"'{k}' was not restored");
        Assert.Equal([0L, 3L], progress.Longs["sampler"]);
        Assert.Equal([1, 2, 3], progress.Bytes["note"]);
        Assert.Equal(3, progress.Extra!["losses"]!.AsArray().Count);
        Assert.Equal(3, progress.SchedulerStep);

        using var evalModel = new Reproduce.Vision.Models.VisionTransformer(TinyRun.ModelConfig());
        ckpt.RestoreModel(evalModel, useEma: true);
        using (Scope.Enter())
            Assert.Equal(run.Ema.StateDict()["head.weight"].ToBytes(), evalModel.StateDict()["head.weight"].ToBytes());
    }

    [Fact]
    public void KeepsLastBestAndTopKAndDeletesTheRest()
    {
        using var dir = new TempDir();
        using var model = new Linear(3, 2);
        var store = new CheckpointStore(dir.Path, keepTopK: 2, metric: "top1", mode: MetricMode.Max);
        double?[] metrics = [1, 5, 3, 4, null, 2];
        var names = new List<string>();
        for (var i = 0; i < metrics.Length; i++)
            names.Add(store.Save(Only(model), new TrainingProgress { Step = i + 1, Metric = metrics[i] }));
        var m = store.ReadManifest()!;
        Assert.Equal(names[5], m.Last);
        Assert.Equal(names[1], m.Best);
        Assert.Equal([names[1], names[3]], m.TopK);
        Assert.Equal([2L, 4L, 6L], m.Entries.Select(e => e.Step));
        Assert.Equal(m.Entries.Select(e => e.Name).Append(CheckpointStore.ManifestFile).Order(StringComparer.Ordinal), Entries(dir.Path));
        using (var best = store.LoadBest()!) Assert.Equal(2, best.Step);
        Assert.Throws<CheckpointException>(() => store.Load(names[0]));

        using var dir2 = new TempDir();
        var low = new CheckpointStore(dir2.Path, keepTopK: 1, metric: "rmse", mode: MetricMode.Min);
        var lowNames = metrics.Select((v, i) => low.Save(Only(model), new TrainingProgress { Step = i + 1, Metric = v })).ToList();
        var lm = low.ReadManifest()!;
        Assert.Equal(lowNames[0], lm.Best);
        Assert.Equal([lowNames[0]], lm.TopK);
        Assert.Equal([1L, 6L], lm.Entries.Select(e => e.Step));

        using var dir3 = new TempDir();
        var ties = new CheckpointStore(dir3.Path, keepTopK: 0);
        var first = ties.Save(Only(model), new TrainingProgress { Step = 1, Metric = 3 });
        ties.Save(Only(model), new TrainingProgress { Step = 2, Metric = 3 });
        Assert.Equal(first, ties.ReadManifest()!.Best);   // a tie does not displace the earlier best
        Assert.Empty(ties.ReadManifest()!.TopK);

        var mismatch = new CheckpointStore(dir.Path, keepTopK: 2, metric: "mIoU");
        Assert.Contains("ranks by top1", Assert.Throws<CheckpointException>(() => mismatch.LoadLast()).Message);
    }

    [Theory]
    [InlineData("tensors")]
    [InlineData("meta")]
    [InlineData("renamed")]
    [InlineData("manifest")]
    public void AFailureMidSaveLeavesThePreviousCheckpointIntactAndLoadable(string stage)
    {
        using var dir = new TempDir();
        using var model = new Linear(4, 3);
        var store = new CheckpointStore(dir.Path);
        var a = store.Save(Only(model), new TrainingProgress { Step = 1 });
        var aWeights = Weights(model);
        var before = Entries(dir.Path).ToList();
        using (Scope.Enter())
        using (Torch.Torch.NoGrad())
            foreach (var p in model.Parameters()) p.Add_(1.0);

        CheckpointStore.FaultPoint = s => { if (s == stage) throw new IOException($"disk full at {s} (injected)"); };
        try
        {
            var e = Assert.Throws<CheckpointException>(() => store.Save(Only(model), new TrainingProgress { Step = 2 }));
            Assert.Contains("the previous checkpoints are intact", e.Message);
        }
        finally
        {
            CheckpointStore.FaultPoint = null;
        }

        Assert.Equal(before, Entries(dir.Path));          // nothing new left behind, nothing old removed
        Assert.Equal(a, store.ReadManifest()!.Last);
        using var ckpt = store.LoadLast()!;
        Assert.Equal(1, ckpt.Step);
        ckpt.Restore(Only(model));
        Assert.Equal(aWeights, Weights(model));
    }

    [Fact]
    public void LeftoversOfACrashAreIgnoredAndCleanedByTheNextSave()
    {
        using var dir = new TempDir();
        using var model = new Linear(2, 2);
        var store = new CheckpointStore(dir.Path, keepTopK: 0);
        var a = store.Save(Only(model), new TrainingProgress { Step = 1 });
        // What a kill at various moments can leave: a half-written checkpoint, a complete one the manifest does
        // not name yet, and a temporary manifest.
        Directory.CreateDirectory(dir[".tmp-ckpt-0000000002-deadbeef"]);
        File.WriteAllText(dir[".tmp-ckpt-0000000002-deadbeef/state.safetensors"], "partial");
        Directory.CreateDirectory(dir["ckpt-0000000002-cafef00d"]);
        File.WriteAllText(dir[".manifest.json.0123.tmp"], "{");

        using (var c = store.LoadLast()!) Assert.Equal(1, c.Step);
        var b = store.Save(Only(model), new TrainingProgress { Step = 3 });
        Assert.Equal([b, CheckpointStore.ManifestFile], Entries(dir.Path));
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void CorruptOrIncompleteCheckpointsAreReportedNotLoaded()
    {
        using var dir = new TempDir();
        using var model = new Linear(2, 2);
        var store = new CheckpointStore(dir.Path);
        var name = store.Save(Only(model), new TrainingProgress { Step = 1 });
        var tensors = Path.Combine(dir.Path, name, "state.safetensors");
        var bytes = File.ReadAllBytes(tensors);
        bytes[^1] ^= 0x5a;
        File.WriteAllBytes(tensors, bytes);
        Assert.Contains("SHA-256", Assert.Throws<CheckpointException>(() => store.LoadLast()).Message);
        File.WriteAllBytes(tensors, bytes[..^4]);
        Assert.Contains("bytes but meta.json records", Assert.Throws<CheckpointException>(() => store.LoadLast()).Message);
        File.Delete(Path.Combine(dir.Path, name, "meta.json"));
        Assert.Contains("incomplete", Assert.Throws<CheckpointException>(() => store.LoadLast()).Message);
        File.WriteAllText(Path.Combine(dir.Path, CheckpointStore.ManifestFile), "{ \"format\": \"something else\" }");
        Assert.Contains("manifest", Assert.Throws<CheckpointException>(() => store.LoadLast()).Message);
    }

    [Fact]
    public void AnIncompatibleCheckpointNamesKeyAndShapesAndTouchesNothing()
    {
        using var dir = new TempDir();
        var store = new CheckpointStore(dir.Path);
        using (var source = new TinyRun(1, 2))
        {
            source.Train(2);
            store.Save(source.Components, source.Progress());
        }
        using var ckpt = store.LoadLast()!;

        using var wider = new TinyRun(3, 4, classes: 5);
        var before = wider.Snapshot();
        var e = Assert.Throws<CheckpointException>(() => ckpt.Restore(wider.Components));
        Assert.Contains("'head.weight' has shape [4,16] in the checkpoint but [5,16] in the model", e.Message);
        Assert.Contains("'head.bias' has shape [4] in the checkpoint but [5] in the model", e.Message);
        Assert.Contains(ckpt.Path, e.Message);
        AssertUnchanged(before, wider);

        // The model fits but the optimizer does not: still nothing is modified (the model is checked first, loaded last).
        using var same = new TinyRun(5, 6);
        using var oneGroup = new Reproduce.Torch.Optim.AdamW(same.Model.Parameters());
        before = same.Snapshot();
        e = Assert.Throws<CheckpointException>(() => ckpt.Restore(new TrainingComponents { Model = same.Model, Ema = same.Ema, Optimizer = oneGroup }));
        Assert.Contains("2 parameter groups but the optimizer has 1", e.Message);
        AssertUnchanged(before, same);

        e = Assert.Throws<CheckpointException>(() => ckpt.Restore(new TrainingComponents { Model = same.Model, Generators = new Dictionary<string, Generator> { ["mixup"] = same.Augment } }));
        Assert.Contains("no state for generator 'mixup' (it has: augment, default_cpu)", e.Message);

        using var deeper = new Reproduce.Vision.Models.VisionTransformer(TinyRun.ModelConfig() with { Depth = 3 });
        e = Assert.Throws<CheckpointException>(() => ckpt.RestoreModel(deeper));
        Assert.Contains("missing keys (in the model, not in the checkpoint): [blocks.2.norm1.weight, blocks.2.norm1.bias,", e.Message);

        using var noEmaDir = new TempDir();
        var noEma = new CheckpointStore(noEmaDir.Path);
        noEma.Save(new TrainingComponents { Model = same.Model }, new TrainingProgress());
        using var plain = noEma.LoadLast()!;
        Assert.Contains("has no EMA state", Assert.Throws<CheckpointException>(() => plain.Restore(same.Components)).Message);
        Assert.Contains("has no optimizer state", Assert.Throws<CheckpointException>(() => plain.Restore(new TrainingComponents { Model = same.Model, Optimizer = same.Optimizer })).Message);
    }

    private static void AssertUnchanged(Dictionary<string, byte[]> before, TinyRun run)
    {
        foreach (var (k, v) in run.Snapshot()) Assert.True(v.AsSpan().SequenceEqual(before[k]), $"'{k}' was modified by a failed restore");
    }

    [Fact]
    public void ProgressNamesAndMetricsAreChecked()
    {
        using var dir = new TempDir();
        using var model = new Linear(2, 2);
        var store = new CheckpointStore(dir.Path);
        Assert.Throws<ArgumentException>(() => store.Save(Only(model), new TrainingProgress { Longs = new Dictionary<string, long[]> { ["a.b"] = [1] } }));
        Assert.Throws<ArgumentException>(() => store.Save(Only(model), new TrainingProgress { Metric = double.NaN }));
        Assert.False(store.HasCheckpoint);
        store.Save(Only(model), new TrainingProgress { Extra = new JsonObject { ["note"] = "ok" } });
        using var c = store.LoadLast()!;
        Assert.Equal("ok", (string?)c.Progress().Extra!["note"]);
    }
}
