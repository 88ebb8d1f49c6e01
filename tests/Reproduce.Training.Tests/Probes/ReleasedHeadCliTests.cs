using System.Text.Json.Nodes;
using Reproduce.Training.Config;
using Reproduce.Training.Probes;
using Reproduce.Training.Runs;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.FashionScenes;

namespace Reproduce.Training.Tests.Probes;

/// <summary>
/// <c>reproduce probe seg|depth --head-weights FILE</c>: a released head (tests/fixtures/released_heads) on its released
/// backbone is evaluated without a training step and without the training split, and a missing head file is refused
/// before anything is written. The head's numerics against PyTorch are <c>ReleasedHeadsTests</c>'.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class ReleasedHeadCliTests : IDisposable
{
    private static readonly FashionScenesConfig Tiny = new() { Seed = 5, Height = 32, Width = 32, TrainCount = 2, TestCount = 2, MaxItems = 2 };
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "released_heads", name);

    private string[] Args(string task, string head, params string[] sets) =>
    [
        "probe", task, "--model", "vit_small_patch14_dinov2", "--set", "model.embed_dim=8", "--set", "model.num_heads=2", "--set", "model.img_size=42",
        "--weights", Fixture("dinov2_vits14.pth"), "--head-weights", head, "--root", _dir["scenes"], "--set", "threads=1",
        .. sets.SelectMany(s => new[] { "--set", s }), "--out", _dir[task],
    ];

    private void Scenes()
    {
        FashionScenes.Write(Tiny, _dir["scenes"], FashionMnist.Load("train"), FashionMnist.Load("test"));
        // No training split: an evaluation-only run must not need one.
        foreach (var part in new[] { "images", "annotations" }) Directory.Delete(Path.Combine(_dir["scenes"], "ADEChallengeData2016", part, "training"), recursive: true);
    }

    [Fact]
    public void AReleasedSegmentationHeadIsEvaluatedWithoutTrainingOrATrainingSplit()
    {
        Scenes();
        var seg = CliRunner.Run(Args("seg", Fixture("dinov2_vits14_ade20k_linear_head.pth"), "probe.num_classes=150"));
        Assert.True(seg.ExitCode == 0, seg.ToString());
        var final = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir["seg"], RunDirectory.FinalFile)))!.AsObject();
        Assert.Equal(0, (int)final["steps"]!);
        Assert.Equal("linear", (string?)final["head"]);
        Assert.EndsWith("dinov2_vits14_ade20k_linear_head.pth", (string?)final["head_weights"], StringComparison.Ordinal);
        Assert.InRange((double)final["mIoU"]!, 0, 100);
        var metrics = Path.Combine(_dir["seg"], RunDirectory.MetricsFile);
        Assert.True(!File.Exists(metrics) || File.ReadAllText(metrics).Trim().Length == 0, "a training step was logged");
        Assert.Contains("no training", seg.Stdout + seg.Stderr, StringComparison.Ordinal);

    }

    [Fact]
    public void ADepthHeadIsScoredAndAMissingFileOrTooFewBlocksIsAClearErrorNamingIt()
    {
        Scenes();
        RunConfig Config(string head, params string[] sets) => ProbeRun.Resolve(ProbeTask.Depth, null,
            ["model.name=vit_small_patch14_dinov2", "model.embed_dim=8", "model.num_heads=2", "model.img_size=42", $"model.weights={Fixture("dinov2_vits14.pth")}",
             $"probe.head_weights={head}", $"data.root={_dir["scenes"]}", .. sets]);
        var final = ProbeRun.Run(Config(Fixture("dinov2_vits14_nyu_linear4_head.pth"), "probe.layers=[2,5,8,11]"), _dir["depth"]);
        Assert.Equal(256, (int)final["bins"]!);
        Assert.Equal(0, (int)final["steps"]!);
        Assert.True(double.IsFinite((double)final["rmse"]!));
        var missing = Assert.Throws<ConfigException>(() => ProbeRun.Run(Config(_dir["nope.pth"]), _dir["missing"]));
        Assert.Contains("probe.head_weights", missing.Message, StringComparison.Ordinal);
        Assert.Contains("nope.pth", missing.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir["missing"]), "a refused run wrote its directory");
        var blocks = Assert.Throws<InvalidDataException>(() => ProbeRun.Run(Config(Fixture("dinov2_vits14_nyu_linear4_head.pth")), _dir["blocks"]));
        Assert.Contains("set probe.layers to 4 blocks", blocks.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeadWeightsStayOutOfTheCanonicalConfigUntilSetAndRefuseTraining()
    {
        Assert.DoesNotContain("head_weights", ProbeRun.Resolve(ProbeTask.Segmentation, null, []).ToCanonicalJson(), StringComparison.Ordinal);
        Assert.Contains("\"head_weights\":\"h.pth\"", ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.head_weights=h.pth"]).ToCanonicalJson(), StringComparison.Ordinal);
        var train = Assert.Throws<ConfigException>(() => ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.head_weights=h.pth", "probe.train_backbone=true"]));
        Assert.Contains("probe.head_weights", train.Message, StringComparison.Ordinal);
    }
}
