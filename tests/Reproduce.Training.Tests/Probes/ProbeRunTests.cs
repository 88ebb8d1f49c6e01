using System.Text.Json.Nodes;
using Reproduce.Training.Analysis;
using Reproduce.Training.Config;
using Reproduce.Training.Probes;
using Reproduce.Training.Runs;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.FashionScenes;

namespace Reproduce.Training.Tests.Probes;

/// <summary>The run drivers behind <c>reproduce probe</c> and <c>reproduce analyze</c>, at smoke scale.</summary>
[Collection(nameof(SerialTests))]
public sealed class ProbeRunTests : IDisposable
{
    private static readonly FashionScenesConfig Tiny = new() { Seed = 5, Height = 32, Width = 32, TrainCount = 6, TestCount = 3, MaxItems = 3 };
    private readonly TempDir _dir = new();

    public ProbeRunTests() => FashionScenes.Write(Tiny, _dir["scenes"], FashionMnist.Load("train"), FashionMnist.Load("test"));

    public void Dispose() => _dir.Dispose();

    private static readonly string[] SmallModel = ["model.name=vit_tiny_scenes64", "data.img_size=32", "model.img_size=32"];

    [Theory]
    [InlineData(ProbeTask.Segmentation)]
    [InlineData(ProbeTask.Depth)]
    public void ProbeRunWritesConfigMetricsAndFinal(ProbeTask task)
    {
        var config = ProbeRun.Resolve(task, null, [.. SmallModel, $"data.root={_dir["scenes"]}", "optim.steps=3", "data.batch_size=2"]);
        Assert.Equal(task, config.Probe.Task);
        Assert.Equal(ProbeRun.DefaultLr, config.Optim.Lr);
        var out_ = _dir["run"];
        var final = ProbeRun.Run(config, out_);
        var run = RunDirectory.Open(out_);
        Assert.True(run.IsFinished);
        Assert.Equal(config.Hash(), run.Config.Hash());
        Assert.Equal(3, run.Metrics.Read().Count);
        var key = task == ProbeTask.Segmentation ? "mIoU" : "rmse";
        Assert.NotNull(final[key]);
        Assert.Equal(final[key]!.GetValue<double>(), run.ReadFinal()![key]!.GetValue<double>());
        // a finished run directory is never overwritten
        Assert.Throws<IOException>(() => ProbeRun.Run(config, out_));
    }

    [Fact]
    public void TrainBackboneWritesWeightsThatLoadIntoTheSameModelAndMismatchesNameTheKey()
    {
        var config = ProbeRun.Resolve(ProbeTask.Segmentation, null,
            [.. SmallModel, $"data.root={_dir["scenes"]}", "optim.steps=2", "data.batch_size=2", "probe.train_backbone=true"]);
        ProbeRun.Run(config, _dir["pre"]);
        var weights = Path.Combine(_dir["pre"], ProbeRun.BackboneFile);
        Assert.True(File.Exists(weights));
        using var scope = Scope.Enter();
        using var trained = ProbeRun.LoadBackbone(config with { Model = config.Model with { Weights = weights } });
        using var fresh = ProbeRun.LoadBackbone(config);
        var key = "blocks.0.attn.qkv.weight";
        var a = trained.NamedParameters().Single(p => p.Name == key).Parameter;
        var b = fresh.NamedParameters().Single(p => p.Name == key).Parameter;
        Assert.False(a.Equal(b), "the loaded backbone holds the saved weights, not a fresh init");
        using var wide = Vision.Models.ModelRegistry.CreateVit("vit_tiny_scenes64");
        var e = Assert.Throws<InvalidDataException>(() => BackboneWeights.Load(wide, weights));
        Assert.Contains("pos_embed", e.Message);
    }

    [Fact]
    public void BadProbeInputsAreClearErrors()
    {
        var wrongData = ProbeRun.Resolve(ProbeTask.Depth, null, ["data.dataset=ade20k", "optim.steps=1"]);
        Assert.Contains("data.dataset", Assert.Throws<ArgumentException>(() => ProbeRun.Run(wrongData, _dir["bad1"])).Message);
        var noRoot = ProbeRun.Resolve(ProbeTask.Segmentation, null, ["data.dataset=ade20k", "optim.steps=1"]);
        Assert.Contains("--root", Assert.Throws<ArgumentException>(() => ProbeRun.Run(noRoot, _dir["bad2"])).Message);
        var sgd = ProbeRun.Resolve(ProbeTask.Segmentation, null, ["optim.optimizer=sgd"]);
        Assert.Contains("adamw", Assert.Throws<ArgumentException>(() => ProbeRun.Run(sgd, _dir["bad3"])).Message);
        Assert.ThrowsAny<Exception>(() => ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.no_such_key=1"]));
        // a window side other than the fixed-size ViT's input, and a window side without slide inference
        var crop = ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.slide=true", "probe.crop_size=48", "optim.steps=2"]);
        var e = Assert.Throws<ArgumentException>(() => ProbeRun.Run(crop, _dir["bad4"]));
        Assert.Contains("probe.crop_size=48", e.Message);
        Assert.Contains("dynamic_img_size", e.Message);
        var noSlide = ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.crop_size=48", "optim.steps=2"]);
        Assert.Contains("probe.slide", Assert.Throws<ArgumentException>(() => ProbeRun.Run(noSlide, _dir["bad5"])).Message);
        var wideStride = ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.slide=true", "probe.stride=65", "optim.steps=2"]);
        Assert.Contains("probe.stride", Assert.Throws<ArgumentException>(() => ProbeRun.Run(wideStride, _dir["bad6"])).Message);
    }

    [Fact]
    public void AnalyzeWritesOneEntryPerBlock()
    {
        var request = new AnalysisRequest("vit_tiny_scenes64", [new("img_size", "32")], null, 2, _dir["scenes"], new TokenAnalysisOptions());
        AnalysisRun.Run(request, _dir["analysis/out.json"]);
        var json = JsonNode.Parse(File.ReadAllText(_dir["analysis/out.json"]))!.AsObject();
        Assert.Equal(4, json["blocks"]!.AsArray().Count);
        Assert.Equal(2, json["images"]!.GetValue<long>());
        foreach (var b in json["blocks"]!.AsArray())
            Assert.InRange(b!["cls_patch_cos_after_norm1"]!.GetValue<double>(), -1, 1);
    }
}
