using System.Text.Json.Nodes;
using Reproduce.Torch.IO;
using Reproduce.Training.Runs;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.FashionScenes;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Train;

/// <summary>
/// <c>reproduce probe</c> and <c>reproduce annotate</c> under <c>reproduce launch</c> with 2 processes on loopback: the
/// probe as 2 ranks × batch 2 against one process × batch 4 (the same global batches; the head's BatchNorm synchronised),
/// annotate sharded and merged by rank 0 against one process.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class LaunchedProbeAnnotateTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ASegmentationProbeOfTwoRanksOfTwoMatchesOneProcessOfFour()
    {
        var tiny = new FashionScenesConfig { Seed = 5, Height = 32, Width = 32, TrainCount = 8, TestCount = 5, MaxItems = 3 };
        FashionScenes.Write(tiny, _dir["scenes"], FashionMnist.Load("train"), FashionMnist.Load("test"));
        string[] Probe(string outDir, int batch) =>
        [
            "probe", "seg", "--set", "model.name=vit_tiny_scenes64", "--set", "data.img_size=32", "--set", "model.img_size=32",
            "--set", $"data.root={_dir["scenes"]}", "--set", "optim.steps=4", "--set", $"data.batch_size={batch}", "--out", outDir,
        ];
        var (code, output) = LaunchedRun.Run(180, ["launch", "--nproc-per-node", "2", "--", .. Probe(_dir["two"], 2)]);
        Assert.True(code == 0, output);
        (code, output) = LaunchedRun.Run(180, Probe(_dir["one"], 4));
        Assert.True(code == 0, output);

        var two = RunDirectory.Open(_dir["two"]);
        var one = RunDirectory.Open(_dir["one"]);
        Assert.Equal(4, two.Metrics.Read().Count); // rank 0 alone wrote the steps
        var losses2 = two.Metrics.Read().Select(r => r["loss"]!.GetValue<double>()).ToArray();
        var losses1 = one.Metrics.Read().Select(r => r["loss"]!.GetValue<double>()).ToArray();
        for (var i = 0; i < 4; i++) Assert.True(Math.Abs(losses2[i] - losses1[i]) <= 1e-5 * Math.Abs(losses1[i]), $"step {i + 1}: loss {losses2[i]} vs {losses1[i]}");
        JsonObject f2 = two.ReadFinal()!, f1 = one.ReadFinal()!;
        foreach (var key in new[] { "mIoU", "aAcc", "mAcc" })
            Assert.True(Math.Abs(f2[key]!.GetValue<double>() - f1[key]!.GetValue<double>()) <= 1e-6, $"{key}: {f2[key]} vs {f1[key]}");
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
        var (code, output) = LaunchedRun.Run(120, ["launch", "--nproc-per-node", "2", "--", .. Annotate(_dir["two.tls"])]);
        Assert.True(code == 0, output);
        (code, output) = LaunchedRun.Run(120, Annotate(_dir["one.tls"]));
        Assert.True(code == 0, output);
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
