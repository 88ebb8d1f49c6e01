using System.Text.Json;
using Reproduce.Torch.IO;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Vision.Tests;

/// <summary>NFNet (timm's dm_nfnet_f*) against the plain-PyTorch transcription of tests/fixtures/nfnet/gen_nfnet.py.</summary>
public class NfNetTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "nfnet", name);

    private static readonly Lazy<JsonDocument> Reference = new(() => JsonDocument.Parse(File.ReadAllBytes(Fixture("nfnet_reference.json"))));

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    // The shrunk configuration the generator built: same structure as dm_nfnet_f*, tiny widths and depths.
    private static NfNetConfig Tiny()
    {
        var t = Reference.Value.RootElement.GetProperty("tiny");
        return new NfNetConfig
        {
            Depths = Ints(t.GetProperty("depths")),
            Channels = Ints(t.GetProperty("channels")),
            StemChannels = t.GetProperty("stem_channels").GetInt32(),
            GroupSize = t.GetProperty("group_size").GetInt32(),
            NumClasses = t.GetProperty("num_classes").GetInt32(),
            ImgSize = 45,
        };
    }

    private static void Close(Tensor expected, Tensor actual, double tol, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var worst = actual.Sub(expected).Abs().Max().ToDouble();
        Assert.True(worst <= tol, $"{what}: max |Δ| = {worst:G4} > {tol:G2}");
    }

    public static TheoryData<string> Family => new(Enumerable.Range(0, 7).Select(n => $"dm_nfnet_f{n}"));

    [Theory]
    [MemberData(nameof(Family))]
    public void AnalyticParameterCountEqualsTheTorchTranscription(string name)
    {
        var expected = Reference.Value.RootElement.GetProperty("param_counts").GetProperty(name).GetInt64();
        Assert.Equal(expected, ModelRegistry.Get(name).Config.ParamCount());
    }

    [Fact]
    public void F6HasTimmsParameterCountAnd18x18MapsAt576()
    {
        var f6 = (NfNetConfig)ModelRegistry.Get("dm_nfnet_f6").Config;
        Assert.Equal(438.36, Math.Round(f6.ParamCount() / 1e6, 2)); // timm's model table: 438.36 M
        Assert.Equal(576, f6.ImgSize);
        Assert.Equal(18, f6.FeatureSize(576));
        Assert.Equal([7, 14, 42, 21], f6.Depths);
        Assert.Equal(3072, f6.NumFeatures);
    }

    [Fact]
    public void BuiltShrunkModelHasTheAnalyticAndReferenceCounts()
    {
        using var model = new NfNet(Tiny());
        Assert.Equal(Reference.Value.RootElement.GetProperty("tiny").GetProperty("params").GetInt64(), model.ParameterCount());
        Assert.Equal(Tiny().ParamCount(), model.ParameterCount());
    }

    [Fact]
    public void LogitsFeaturesAndDenseMapsMatchTheTorchTranscription()
    {
        using var model = new NfNet(Tiny());
        var load = SafeTensors.LoadInto(model, Fixture("nfnet_tiny.safetensors"), strict: true);
        Assert.Empty(load.MissingKeys);
        Assert.Empty(load.UnexpectedKeys);
        model.Eval();
        using var scope = Scope.Enter();
        var io = SafeTensors.Load(Fixture("nfnet_tiny_io.safetensors"));
        using var noGrad = Torch.Torch.NoGrad();
        var features = model.ForwardFeatures(io["input"]);
        Close(io["features"], features, 1e-4, "features");
        Close(io["dense"], model.ForwardDense(io["input"]), 1e-4, "dense");
        Close(io["logits"], model.Forward(io["input"]), 1e-4, "logits");
        Close(model.Forward(io["input"]), model.ForwardDense(io["input"]).Mean([2, 3]), 1e-5, "logits vs mean of dense scores");
    }

    [Fact]
    public void KeysAreTimms()
    {
        using var model = new NfNet(Tiny());
        var keys = model.StateDict().Keys.ToHashSet();
        string[] expected =
        [
            "stem.conv1.weight", "stem.conv1.bias", "stem.conv1.gain", "stem.conv4.gain",
            "stages.0.0.downsample.conv.weight", "stages.0.0.conv1.gain", "stages.0.0.conv2.weight", "stages.0.0.conv2b.weight",
            "stages.0.0.conv3.gain", "stages.0.0.attn_last.fc1.weight", "stages.0.0.attn_last.fc2.bias", "stages.0.0.skipinit_gain",
            "stages.1.1.conv2.weight", "final_conv.weight", "final_conv.gain", "head.fc.weight", "head.fc.bias",
        ];
        Assert.All(expected, k => Assert.Contains(k, keys));
        Assert.DoesNotContain("stages.1.1.downsample.conv.weight", keys); // same shape, stride 1: identity shortcut
        Assert.Equal([16, 8, 3, 3], model.StateDict()["stages.1.0.conv2.weight"].Shape); // 16-wide bottleneck: 2 groups of 8 inputs
    }

    [Fact]
    public void DenseMapsAre18x18At576AndFeatureSizeAgreesAtOddSides()
    {
        using var model = new NfNet(Tiny());
        model.Eval();
        using var scope = Scope.Enter();
        using var noGrad = Torch.Torch.NoGrad();
        foreach (var side in new[] { 576, 45, 33 })
        {
            var dense = model.ForwardDense(Torch.Torch.Zeros([1, 3, side, side]));
            Assert.Equal([1, 5, Tiny().FeatureSize(side), Tiny().FeatureSize(side)], dense.Shape);
        }
        Assert.Equal(18, Tiny().FeatureSize(576));
    }

    [Fact]
    public void WeightStandardizationIsPerFilterZeroMeanUnitVarianceTimesGainOverSqrtFanIn()
    {
        using var conv = new ScaledStdConv2d(4, 3, 3, gamma: 1.7, eps: 0);
        using var scope = Scope.Enter();
        var w = conv.StandardizedWeight().Reshape(3, -1).To(ScalarType.Float64);
        Close(Torch.Torch.Zeros([3], ScalarType.Float64), w.Mean([1L]), 1e-6, "filter means");
        // Σ w² = N·(γ/√N)² = γ² per filter (biased variance 1 before scaling)
        Close(Torch.Torch.Full([3], 1.7 * 1.7, ScalarType.Float64), w.Mul(w).Sum([1L]), 1e-4, "filter energies");
    }

    [Fact]
    public void BlockScalesAndDropPathFollowTimmsSchedule()
    {
        var blocks = (Tiny() with { DropPathRate = 0.1 }).Blocks().ToList();
        // Expected variance 1, reset to 1 after each stage's first block, + α² per block (α = 0.2).
        double[] variance = [1, 1.04, 1.04, 1.08, 1.04, 1.04];
        Assert.Equal(variance.Select(v => 1 / Math.Sqrt(v)), blocks.Select(b => b.Beta));
        Assert.Equal(Enumerable.Range(0, 6).Select(k => 0.1 * k / 5), blocks.Select(b => b.DropPath));
        Assert.Equal([0, 0, 1, 0, 0, 1], blocks.Select(b => b.Index));
        Assert.Equal([1, 2, 1, 2, 2, 1], blocks.Select(b => b.Stride));
    }

    [Theory]
    [InlineData(45, 3, 2, 2)] // ⌈45/2⌉ = 23: (23 − 1)·2 + 3 − 45 = 2, one before and one after
    [InlineData(46, 3, 2, 1)]
    [InlineData(12, 3, 1, 2)]
    [InlineData(12, 1, 1, 0)]
    public void SamePaddingIsTensorFlows(long size, long kernel, long stride, long expected)
    {
        var pad = ScaledStdConv2d.SamePad(size, kernel, stride);
        Assert.Equal(expected, pad);
        Assert.Equal((size + stride - 1) / stride, (size + pad - kernel) / stride + 1);
    }

    [Fact]
    public void BadConfigurationsNameTheSetting()
    {
        var e = Assert.Throws<ArgumentException>(() => new NfNetConfig { Depths = [1, 2, 3] }.Validate());
        Assert.Contains("depths [1, 2, 3]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new NfNetConfig { Channels = [16, 32, 48, 48], StemChannels = 16 }.Validate());
        Assert.Contains("group", e.Message);
        e = Assert.Throws<ArgumentException>(() => NfNetConfig.F(7));
        Assert.Contains("F7", e.Message);
        using var model = new NfNet(Tiny());
        e = Assert.Throws<ArgumentException>(() => model.Forward(Torch.Torch.Zeros([1, 1, 32, 32])));
        Assert.Contains("expected images [B, 3, H, W]", e.Message);
    }
}
