using Reproduce.Training.Config;
using Reproduce.Training.Probes;
using Reproduce.Training.Runs;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.FashionScenes;

namespace Reproduce.Training.Tests.Probes;

/// <summary><c>probe.head=upernet</c>: its configuration keys and refusals, and a smoke-scale run through the probe.</summary>
[Collection(nameof(SerialTests))]
public sealed class UperNetProbeTests : IDisposable
{
    private static readonly FashionScenesConfig Tiny = new() { Seed = 5, Height = 32, Width = 32, TrainCount = 6, TestCount = 3, MaxItems = 3 };
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void UperNetNeedsFourBlocksAndSegmentationAndNamesTheKey()
    {
        var blocks = Assert.Throws<ConfigException>(() => ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.head=upernet"]));
        Assert.Contains("probe.layers", blocks.Message);
        Assert.Contains("four blocks", blocks.Message);
        var depth = Assert.Throws<ConfigException>(() => ProbeRun.Resolve(ProbeTask.Depth, null, ["probe.head=upernet", "probe.layers=[0,1,2,3]"]));
        Assert.Contains("probe.head", depth.Message);
        Assert.Contains("upernet is implemented for probe.task=segmentation only", depth.Message);
        Assert.Contains("probe.upernet_aux_weight",
            Assert.Throws<ConfigException>(() => RunConfig.Load(null, "probe.upernet_aux_weight=-1")).Message);
    }

    [Fact]
    public void DefaultUperNetKeysStayOutOfTheCanonicalConfig()
    {
        var quick = ProbeRun.Resolve(ProbeTask.Segmentation, null, []);
        Assert.DoesNotContain("upernet", quick.ToCanonicalJson());
        var up = ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.head=upernet", "probe.layers=[0,1,2,3]", "probe.upernet_channels=256"]);
        Assert.Contains("\"head\":\"upernet\"", up.ToCanonicalJson());
        Assert.Contains("\"upernet_channels\":256", up.ToCanonicalJson());
        Assert.DoesNotContain("upernet_aux_weight", up.ToCanonicalJson());
    }

    [Fact]
    public void UperNetProbeRunTrainsAndRecordsTheHead()
    {
        var root = _dir["scenes"];
        FashionScenes.Write(Tiny, root, FashionMnist.Load("train"), FashionMnist.Load("test"));
        var config = ProbeRun.Resolve(ProbeTask.Segmentation, null,
            ["model.name=vit_tiny_scenes64", "data.img_size=32", "model.img_size=32", $"data.root={root}", "optim.steps=3", "data.batch_size=2",
             "probe.head=upernet", "probe.layers=[0,1,2,3]", "probe.upernet_channels=8", "probe.upernet_neck_channels=16", "probe.upernet_aux_channels=8"]);
        var final = ProbeRun.Run(config, _dir["run"]);
        Assert.Equal("upernet", (string?)final["head"]);
        Assert.True(RunDirectory.Open(_dir["run"]).IsFinished);
        Assert.InRange(final["mIoU"]!.GetValue<double>(), 0, 100);
        Assert.True(double.IsFinite(final["train_loss"]!.GetValue<double>()));
    }
}
