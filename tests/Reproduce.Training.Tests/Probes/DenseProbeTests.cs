using Reproduce.Training.Probes;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.FashionScenes;
using Reproduce.Vision.Metrics;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Probes;

/// <summary>The dense probes end to end on a tiny fashion-scenes tree (smoke scale).</summary>
[Collection(nameof(SerialTests))]
public sealed class DenseProbeTests : IDisposable
{
    private static readonly FashionScenesConfig Tiny = new() { Seed = 3, Height = 32, Width = 32, TrainCount = 12, TestCount = 4, MaxItems = 3 };
    private readonly TempDir _dir = new();
    private readonly FashionScenesTree _tree;

    public DenseProbeTests()
    {
        FashionScenes.Write(Tiny, _dir["scenes"], FashionMnist.Load("train"), FashionMnist.Load("test"));
        _tree = new FashionScenesTree(_dir["scenes"], Tiny);
    }

    public void Dispose() => _dir.Dispose();

    private static VisionTransformer Backbone()
    {
        Torch.Torch.ManualSeed(1);
        return new VisionTransformer(new VitConfig { ImgSize = 32, PatchSize = 8, InChans = 3, NumClasses = 0, EmbedDim = 16, Depth = 4, NumHeads = 2 });
    }

    private static readonly ProbeOptions Quick = new() { Steps = 12, BatchSize = 4, Lr = 1e-2 };

    [Fact]
    public void SegmentationProbeTrainsAndGivesMetricsInRange()
    {
        using var scope = Scope.Enter();
        using var vit = Backbone();
        var steps = new List<ProbeStep>();
        var result = SegmentationProbe.Run(vit, _tree.Segmentation("train"), _tree.Segmentation("test"), FashionScenes.Classes.Count,
            Quick with { Layers = Vision.Models.Heads.ProbeLayers.Lin4 }, steps.Add);
        using var head = result.Head;
        Assert.Equal(12, steps.Count);
        Assert.All(steps, s => Assert.True(double.IsFinite(s.Loss) && s.Loss > 0));
        Assert.True(steps[^1].Loss < steps[0].Loss, $"loss should fall: {steps[0].Loss} → {steps[^1].Loss}");
        Assert.InRange(result.Metrics.MIoU, 0, 100);
        Assert.InRange(result.Metrics.AAcc, 0, 100);
        Assert.InRange(result.Metrics.MAcc, 0, 100);
        // background dominates the scenes: even a briefly trained head labels most pixels right
        Assert.True(result.Metrics.AAcc > 30, $"aAcc {result.Metrics.AAcc}");
        Assert.Equal(FashionScenes.Classes.Count, result.Metrics.PerClassIoU.Count);
        // every evaluated pixel of the 4 scenes except the unlabelled ones (id 0 → 255 after reduce_zero_label)
        Assert.InRange(result.Metrics.AreaLabel.Sum(), 3 * 32 * 32, 4 * 32 * 32);
        Assert.False(vit.Training, "the backbone stays frozen in eval mode");
        Assert.All(vit.Parameters(), p => Assert.False(p.RequiresGrad));
    }

    [Fact]
    public void DepthProbeTrainsAndGivesMetricsInRange()
    {
        using var scope = Scope.Enter();
        using var vit = Backbone();
        var steps = new List<ProbeStep>();
        var settings = new DepthProbeSettings(new DepthEvalOptions(1e-3, 10, DepthCrop.None));
        var result = DepthProbe.Run(vit, _tree.DenseDepth("train"), _tree.DenseDepth("test"), settings, Quick, steps.Add);
        using var head = result.Head;
        Assert.Equal(12, steps.Count);
        Assert.All(steps, s => Assert.True(double.IsFinite(s.Loss) && s.Loss >= 0));
        var m = result.Metrics;
        Assert.Equal(4, m.Images);
        Assert.True(m.AbsRel >= 0 && double.IsFinite(m.AbsRel));
        Assert.True(m.Rmse >= 0 && m.Rmse < 10);
        Assert.InRange(m.D1, 0, 1);
        Assert.True(m.D1 <= m.D2 && m.D2 <= m.D3);
        // sparse (KITTI layout) with the Garg crop, which is fractional and applies at 32×32
        var sparse = DepthProbe.Run(vit, _tree.SparseDepth("train"), _tree.SparseDepth("test"),
            new DepthProbeSettings(new DepthEvalOptions(1e-3, 80, DepthCrop.GargKitti)), Quick with { Steps = 3 });
        using var sparseHead = sparse.Head;
        Assert.True(double.IsFinite(sparse.Metrics.Rmse));
    }

    [Fact]
    public void BadOptionsAreClearErrors()
    {
        Assert.Contains("steps", Assert.Throws<ArgumentException>(() => new ProbeOptions { Steps = 0 }.Validate()).Message);
        Assert.Contains("warm-up", Assert.Throws<ArgumentException>(() => new ProbeOptions { Steps = 5, WarmupSteps = 5 }.Validate()).Message);
    }
}
