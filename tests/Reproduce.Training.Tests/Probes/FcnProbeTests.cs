using System.Text.Json.Nodes;
using Reproduce.Training.Config;
using Reproduce.Training.Probes;
using Reproduce.Training.Runs;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.FashionScenes;
using Reproduce.Vision.Models.Heads;

namespace Reproduce.Training.Tests.Probes;

/// <summary><c>probe.head=fcn</c>: its configuration keys, and the FCN decode head trained through the probe run at smoke scale.</summary>
[Collection(nameof(SerialTests))]
public sealed class FcnProbeTests : IDisposable
{
    private static readonly FashionScenesConfig Tiny = new() { Seed = 5, Height = 32, Width = 32, TrainCount = 6, TestCount = 3, MaxItems = 3 };
    private static readonly string[] SmallModel = ["model.name=vit_tiny_scenes64", "data.img_size=32", "model.img_size=32"];
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Scenes()
    {
        var root = _dir["scenes"];
        if (!Directory.Exists(root)) FashionScenes.Write(Tiny, root, FashionMnist.Load("train"), FashionMnist.Load("test"));
        return root;
    }

    [Fact]
    public void FcnForDepthOrClassificationAndUnknownHeadsAreConfigErrorsNamingTheKey()
    {
        var depth = Assert.Throws<ConfigException>(() => ProbeRun.Resolve(ProbeTask.Depth, null, ["probe.head=fcn"]));
        Assert.Contains("probe.head", depth.Message);
        Assert.Contains("segmentation", depth.Message);
        var cls = Assert.Throws<ConfigException>(() => RunConfig.Load(null, "probe.task=classification", "probe.head=fcn"));
        Assert.Contains("probe.head", cls.Message);
        var unknown = Assert.Throws<ConfigException>(() => ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.head=mlp"]));
        Assert.Contains("probe.head", unknown.Message);
        Assert.Contains("linear|fcn", unknown.Message);
        Assert.Contains("probe.fcn_dropout", Assert.Throws<ConfigException>(() => RunConfig.Load(null, "probe.head=fcn", "probe.fcn_dropout=1")).Message);
        Assert.Contains("probe.fcn_channels", Assert.Throws<ConfigException>(() => RunConfig.Load(null, "probe.fcn_channels=0")).Message);
        Assert.Equal(ProbeHead.Fcn, ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.head=fcn"]).Probe.Head);
    }

    [Fact]
    public void LinearRunsKeepTheirResolvedConfigAndHash()
    {
        // The head keys are left out of the canonical form at their defaults: a linear config (default or explicit)
        // writes the same bytes as before the keys existed, so committed run directories keep their hashes.
        var quick = ProbeRun.Resolve(ProbeTask.Segmentation, null, []);
        var explicitLinear = ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.head=linear", "probe.fcn_num_convs=2", "probe.fcn_dropout=0.1"]);
        Assert.Equal(quick.ToCanonicalJson(), explicitLinear.ToCanonicalJson());
        Assert.DoesNotContain("\"head\"", quick.ToCanonicalJson());
        Assert.DoesNotContain("fcn_", quick.ToCanonicalJson());
        var fcn = ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.head=fcn", "probe.fcn_channels=96"]);
        Assert.Contains("\"head\":\"fcn\"", fcn.ToCanonicalJson());
        Assert.Contains("\"fcn_channels\":96", fcn.ToCanonicalJson());
        Assert.NotEqual(quick.Hash(), fcn.Hash());
        var back = RunConfig.FromJson(ConfigJson.Indented(fcn));
        Assert.Equal((ProbeHead.Fcn, (int?)96, 2, 0.1), (back.Probe.Head, back.Probe.FcnChannels, back.Probe.FcnNumConvs, back.Probe.FcnDropout));
        Assert.Equal(fcn.Hash(), back.Hash());

        // Committed probe runs (written before probe.head existed, and before the model's keys were typed) re-serialise
        // to the bytes on disk but for the typed model section: the empty top-level sta/anf/specialization sections
        // are dropped and model.overrides' keys move up into model.
        var runs = CommittedProbeConfigs();
        Assert.NotEmpty(runs);
        foreach (var path in runs)
        {
            var text = File.ReadAllText(path);
            var expected = JsonNode.Parse(text)!.AsObject();
            foreach (var dead in new[] { "sta", "anf", "specialization" }) expected.Remove(dead);
            var model = expected["model"]!.AsObject();
            if (model["overrides"] is JsonObject overrides) // the old form: its keys move up into model
            {
                model.Remove("overrides");
                foreach (var (k, v) in overrides.ToList()) model[k] = v?.DeepClone();
            }
            var actual = JsonNode.Parse(ConfigJson.Indented(RunConfig.FromJson(text)))!.AsObject();
            foreach (var record in new[] { "sta", "anf", "specialization" })   // old string forms, typed now (ModelKeysTests)
            {
                Assert.Equal(model.ContainsKey(record), actual["model"]!.AsObject().ContainsKey(record));
                model.Remove(record);
                actual["model"]!.AsObject().Remove(record);
            }
            Assert.True(JsonNode.DeepEquals(expected, actual), path);
        }
    }

    /// <summary>The committed probe run configs, and those of the old form kept in tests/fixtures/legacy-configs.</summary>
    private static string[] CommittedProbeConfigs()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var runs = Path.Combine(dir.FullName, "results", "quick", "backbones", "runs");
            if (Directory.Exists(runs))
            {
                var legacy = Directory.GetFiles(Path.Combine(dir.FullName, "tests", "fixtures", "legacy-configs"), "*.config.json");
                Assert.NotEmpty(legacy);
                return Directory.GetDirectories(runs, "seg-*").Concat(Directory.GetDirectories(runs, "depth-*"))
                    .Select(d => Path.Combine(d, RunDirectory.ConfigFile)).Where(File.Exists).Concat(legacy).ToArray();
            }
        }
        return [];
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void FcnProbeRunRecordsTheHeadAndSaneMetrics(bool trainBackbone, bool slide)
    {
        var config = ProbeRun.Resolve(ProbeTask.Segmentation, null,
            [.. SmallModel, $"data.root={Scenes()}", "optim.steps=3", "data.batch_size=2", "probe.head=fcn",
             $"probe.train_backbone={(trainBackbone ? "true" : "false")}", $"probe.slide={(slide ? "true" : "false")}"]);
        var out_ = _dir["run"];
        var final = ProbeRun.Run(config, out_);
        Assert.Equal("fcn", (string?)final["head"]);
        var run = RunDirectory.Open(out_);
        Assert.True(run.IsFinished);
        Assert.Equal("fcn", (string?)run.ReadFinal()!["head"]);
        Assert.Equal(ProbeHead.Fcn, run.Config.Probe.Head);
        foreach (var key in new[] { "mIoU", "aAcc", "mAcc" })
        {
            var v = final[key]!.GetValue<double>();
            Assert.InRange(v, 0, 100);
        }
        Assert.True(final["aAcc"]!.GetValue<double>() > 0, "some pixel is labelled right");
        Assert.True(double.IsFinite(final["train_loss"]!.GetValue<double>()));
        Assert.Equal(trainBackbone, File.Exists(Path.Combine(out_, ProbeRun.BackboneFile)));
    }

    [Fact]
    public void LinearProbeRunFinalKeysAreUnchanged()
    {
        var config = ProbeRun.Resolve(ProbeTask.Segmentation, null, [.. SmallModel, $"data.root={Scenes()}", "optim.steps=2", "data.batch_size=2"]);
        var final = ProbeRun.Run(config, _dir["linear"]);
        Assert.Null(final["head"]);
        Assert.Equal(
            ["mIoU", "aAcc", "mAcc", "per_class_iou", "train_loss", "steps", "seconds", "train_seconds", "eval_seconds", "eval_mode"],
            final.Select(kv => kv.Key).ToArray());
    }

    [Fact]
    public void FcnHeadIsMmsegShapedAndItsParametersTrainWithTheBackbone()
    {
        using var scope = Scope.Enter();
        var tree = FashionScenesTree.Open(Scenes());
        using var vit = Vision.Models.ModelRegistry.CreateVit("vit_tiny_scenes64", c => c with { ImgSize = 32 });
        var d = vit.Config.EmbedDim;
        var options = new ProbeOptions { Steps = 8, BatchSize = 2, Lr = 0.01, Seed = 4, TrainBackbone = true, Fcn = new FcnOptions() };
        // the head before training: the same seed and constructor the probe uses
        Torch.Torch.ManualSeed(4);
        using var initial = (FcnHead)SegmentationHeads.Create(options.Fcn, d, 1, FashionScenes.Classes.Count, Device.Cpu);
        var before = vit.NamedParameters().Single(p => p.Name == "blocks.0.attn.qkv.weight").Parameter.Clone();
        var result = SegmentationProbe.Run(vit, tree.Segmentation("train"), tree.Segmentation("test"), FashionScenes.Classes.Count, options);
        using var head = Assert.IsType<FcnHead>(result.Head);
        // mmseg FCNHead(in_channels=D, channels=D, num_convs=2, concat_input=True, dropout 0.1)
        Assert.Equal(2, head.NumConvs);
        Assert.NotNull(head.ConvCat);
        Assert.Equal(0.1, head.DropoutRatio);
        var names = head.NamedParameters().Select(p => p.Name).ToHashSet();
        Assert.Contains("convs.0.conv.weight", names);
        Assert.Contains("convs.1.conv.weight", names);
        Assert.Contains("conv_cat.conv.weight", names);
        Assert.Contains("conv_seg.weight", names);
        Assert.Equal([FashionScenes.Classes.Count, d, 1, 1], head.ConvSeg.Weight.Shape);
        var init = initial.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var name in new[] { "convs.0.conv.weight", "conv_cat.conv.weight", "conv_seg.weight" })
        {
            var trained = head.NamedParameters().Single(p => p.Name == name).Parameter;
            Assert.Equal(init[name].Shape, trained.Shape);
            Assert.False(trained.Equal(init[name]), $"{name} did not move in training");
        }
        Assert.False(vit.NamedParameters().Single(p => p.Name == "blocks.0.attn.qkv.weight").Parameter.Equal(before), "the backbone trained with the head");
        Assert.True(double.IsFinite(result.FinalLoss));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.1)]
    public void BackboneLrMultScalesTheBackbonesAdamWStep(double mult)
    {
        // Closed form: AdamW's first step moves a weight by lr·mult·m̂/(√v̂+ε) = lr·mult·sign(g) (|g| ≫ ε; wd 0 here); the
        // second (poly: lr·0.5^0.9 ≈ 0.536·lr) moves it by at most ~0.536·lr·mult·1. Two steps (poly's minimum) therefore
        // leave the largest change of a backbone weight within [0.46, 1.54]·lr·mult: disjoint ranges for mult 1 and 0.1.
        using var scope = Scope.Enter();
        var tree = FashionScenesTree.Open(Scenes());
        using var vit = Vision.Models.ModelRegistry.CreateVit("vit_tiny_scenes64", c => c with { ImgSize = 32 });
        var options = new ProbeOptions
        {
            Steps = 2, BatchSize = 2, Lr = 0.01, WeightDecay = 0, Seed = 4, TrainBackbone = true, BackboneLrMult = mult, Fcn = new FcnOptions(),
        };
        var before = vit.NamedParameters().Single(p => p.Name == "blocks.0.attn.qkv.weight").Parameter.Clone();
        SegmentationProbe.Run(vit, tree.Segmentation("train"), tree.Segmentation("test"), FashionScenes.Classes.Count, options);
        var after = vit.NamedParameters().Single(p => p.Name == "blocks.0.attn.qkv.weight").Parameter;
        var maxChange = after.Sub(before).Abs().Max().ToDouble();
        Assert.InRange(maxChange, 0.46 * 0.01 * mult, 1.54 * 0.01 * mult);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1e9")]
    [InlineData("NaN")]
    public void BackboneLrMultOutsideItsRangeIsAConfigErrorNamingTheKey(string value)
    {
        var e = Assert.Throws<ConfigException>(() => ProbeRun.Resolve(ProbeTask.Segmentation, null, [$"probe.backbone_lr_mult={value}"]));
        Assert.Contains("backbone_lr_mult", e.Message);
    }

    [Fact]
    public void BackboneLrMultWithoutTrainingTheBackboneIsAnError()
    {
        var config = ProbeRun.Resolve(ProbeTask.Segmentation, null, [.. SmallModel, $"data.root={Scenes()}", "optim.steps=2", "probe.backbone_lr_mult=0.1"]);
        var e = Assert.Throws<ArgumentException>(() => ProbeRun.Run(config, _dir["lr-mult"]));
        Assert.Contains("probe.backbone_lr_mult", e.Message);
    }
}
