using System.Text.Json.Nodes;
using Reproduce.Torch.IO;
using Reproduce.Training.Annotation;
using Reproduce.Training.Config;
using Reproduce.Training.Probes;
using Reproduce.Training.Runs;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.FashionScenes;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Models;
using Xunit.Abstractions;

namespace Reproduce.Training.Tests.Train;

/// <summary>
/// <c>reproduce probe</c> and <c>reproduce annotate</c> under <c>reproduce launch</c> with 2 processes on loopback: the
/// probe as 2 ranks × batch 2 against one process × batch 4 (the same global batches; the head's BatchNorm synchronised),
/// annotate sharded and merged by rank 0 against one process. The probe's loss is each rank's mean over its valid
/// pixels, averaged over ranks (DDP's semantics, as mmseg under torch DDP); fashion-scenes ignores mixed pixels, so
/// the ranks' pixel counts differ and the two runs agree closely rather than to float rounding (SyncBatchNorm's own
/// exact equivalence is SyncBatchNormTests').
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class LaunchedProbeAnnotateTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ASegmentationProbeOfTwoRanksOfTwoMatchesOneProcessOfFour()
    {
        var tiny = new FashionScenesConfig { Seed = 5, Height = 32, Width = 32, TrainCount = 8, TestCount = 5, MaxItems = 3 };
        FashionScenes.Write(tiny, _dir["scenes"], FashionMnist.Load("train"), FashionMnist.Load("test"));
        string[] Sets(int batch) =>
            ["model.name=vit_tiny_scenes64", "data.img_size=32", "model.img_size=32", "threads=1", $"data.root={_dir["scenes"]}", "optim.steps=4", $"data.batch_size={batch}"];
        string[] Probe(string outDir, int batch) => ["probe", "seg", .. Sets(batch).SelectMany(kv => new[] { "--set", kv }), "--out", outDir];
        var (code, text) = LaunchedRun.Run(180, ["launch", "--nproc-per-node", "2", "--", .. Probe(_dir["two"], 2)]);
        Assert.True(code == 0, text);
        ProbeRun.Run(ProbeRun.Resolve(ProbeTask.Segmentation, null, Sets(4)), _dir["one"]); // the single-process reference in this process (its threads: 1 as the ranks')

        var two = RunDirectory.Open(_dir["two"]);
        var one = RunDirectory.Open(_dir["one"]);
        Assert.Equal(4, two.Metrics.Read().Count); // rank 0 alone wrote the steps
        var losses2 = two.Metrics.Read().Select(r => r["loss"]!.GetValue<double>()).ToArray();
        var losses1 = one.Metrics.Read().Select(r => r["loss"]!.GetValue<double>()).ToArray();
        JsonObject f2 = two.ReadFinal()!, f1 = one.ReadFinal()!;
        output.WriteLine($"losses {string.Join(", ", losses2)} vs {string.Join(", ", losses1)}; mIoU {f2["mIoU"]} vs {f1["mIoU"]}, aAcc {f2["aAcc"]} vs {f1["aAcc"]}");
        for (var i = 0; i < 4; i++) Assert.True(Math.Abs(losses2[i] - losses1[i]) <= 3e-3 * Math.Abs(losses1[i]), $"step {i + 1}: loss {losses2[i]} vs {losses1[i]}");
        foreach (var key in new[] { "mIoU", "aAcc", "mAcc" })
            Assert.True(Math.Abs(f2[key]!.GetValue<double>() - f1[key]!.GetValue<double>()) <= 1e-2 * Math.Abs(f1[key]!.GetValue<double>()), $"{key}: {f2[key]} vs {f1[key]}");
    }

    [Fact]
    public void AFineTunedBackboneIsAveragedOverTheRanksToo()
    {
        // Two steps: step 2's loss is computed by backbones updated once; were the backbone's gradients not averaged,
        // rank 0's would have followed its half batch alone.
        var tiny = new FashionScenesConfig { Seed = 5, Height = 32, Width = 32, TrainCount = 8, TestCount = 2, MaxItems = 3 };
        FashionScenes.Write(tiny, _dir["scenes"], FashionMnist.Load("train"), FashionMnist.Load("test"));
        string[] Sets(int batch) =>
        [
            "model.name=vit_tiny_scenes64", "data.img_size=32", "model.img_size=32", "threads=1", $"data.root={_dir["scenes"]}", "optim.steps=2",
            $"data.batch_size={batch}", "probe.train_backbone=true",
        ];
        string[] Probe(string outDir, int batch) => ["probe", "seg", .. Sets(batch).SelectMany(kv => new[] { "--set", kv }), "--out", outDir];
        var (code, text) = LaunchedRun.Run(180, ["launch", "--nproc-per-node", "2", "--", .. Probe(_dir["two"], 2)]);
        Assert.True(code == 0, text);
        ProbeRun.Run(ProbeRun.Resolve(ProbeTask.Segmentation, null, Sets(4)), _dir["one"]);

        var losses2 = RunDirectory.Open(_dir["two"]).Metrics.Read().Select(r => r["loss"]!.GetValue<double>()).ToArray();
        var losses1 = RunDirectory.Open(_dir["one"]).Metrics.Read().Select(r => r["loss"]!.GetValue<double>()).ToArray();
        output.WriteLine($"losses {string.Join(", ", losses2)} vs {string.Join(", ", losses1)}");
        for (var i = 0; i < 2; i++) Assert.True(Math.Abs(losses2[i] - losses1[i]) <= 3e-4 * Math.Abs(losses1[i]), $"step {i + 1}: loss {losses2[i]} vs {losses1[i]}");
        Assert.True(File.Exists(Path.Combine(_dir["two"], ProbeRun.BackboneFile)), "rank 0 writes the fine-tuned backbone");
    }

    [Fact]
    public void AnnotateShardedOverTwoRanksWritesEveryImageOnceAsOneProcessDoes()
    {
        using (Scope.Enter())
        {
            Torch.Torch.ManualSeed(5);
            using var model = ModelRegistry.Get("resnet_tiny_fm28").Create();
            SafeTensors.SaveModule(_dir["teacher.safetensors"], model);
        }
        string[] Annotate(string store) =>
        [
            "annotate", "--model", "resnet_tiny_fm28", "--weights", _dir["teacher.safetensors"], "--data", "fashion-mnist", "--split", "test",
            "--limit", "11", "--batch", "4", "--resolution", "28", "--topk", "3", "--out", store,
        ];
        var (code, text) = LaunchedRun.Run(120, ["launch", "--nproc-per-node", "2", "--", .. Annotate(_dir["two.tls"])]);
        Assert.True(code == 0, text);
        Annotator.Run(new AnnotateOptions("resnet_tiny_fm28", _dir["teacher.safetensors"], "fashion-mnist", null, "test", 28, 3, _dir["one.tls"],
            Limit: 11, BatchSize: 4)); // the single-process reference in this process
        Assert.Equal(["one.tls", "teacher.safetensors", "two.tls"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Order()); // shards removed

        using var two = TokenLabelStore.Open(_dir["two.tls"]);
        using var one = TokenLabelStore.Open(_dir["one.tls"]);
        Assert.Equal(one.Format, two.Format);
        Assert.Equal(one.Keys, two.Keys); // every image once, in the single-process order
        using var scope = Scope.Enter();
        for (var i = 0; i < one.Count; i++)
        {
            var (a, b) = (two.Read(i), one.Read(i));
            Assert.Equal(b.Indices.ToArray<long>(), a.Indices.ToArray<long>());
            Assert.True(a.Values.Sub(b.Values).Abs().Max().ToDouble() <= 2e-3, $"record {one.Keys[i]}");
        }
    }
}
