using System.Text.Json;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Tests;

/// <summary>The ResNet annotator against torchvision (tests/fixtures/gen_resnet.py) and its dense score maps.</summary>
public class ResNetAnnotatorTests
{
    private static readonly Lazy<JsonDocument> Fixture = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "resnet_reference.json"))));

    public static TheoryData<string> Cases => new(Fixture.Value.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    /// <summary>gen_resnet.py's deterministic values: offset + amp·f(i) (or f(i)²), f(i) = sin(0.37·i + 0.11·len(key)), as float32.</summary>
    private static Tensor Formula(string key, long[] shape, double offset, double amp, bool square)
    {
        var n = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[n];
        for (var i = 0; i < n; i++)
        {
            var f = Math.Sin(0.37 * i + 0.11 * key.Length);
            values[i] = (float)(offset + amp * (square ? f * f : f));
        }
        return Tensor.From<float>(values, shape);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogitsAndDenseMapsMatchTorchvision(string name)
    {
        var c = Fixture.Value.RootElement.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        var config = new ResNetConfig
        {
            Block = c.GetProperty("block").GetString() == "basic" ? ResNetBlockType.Basic : ResNetBlockType.Bottleneck,
            Layers = c.GetProperty("layers").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            NumClasses = c.GetProperty("num_classes").GetInt32(),
        };
        using var model = new ResNet(config);
        using var scope = Scope.Enter();
        var entries = c.GetProperty("entries").EnumerateArray().Select(e => (
            Key: e.GetProperty("key").GetString()!,
            Shape: e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray(),
            Offset: e.GetProperty("offset").GetDouble(), Amp: e.GetProperty("amp").GetDouble(), Square: e.GetProperty("square").GetBoolean())).ToList();

        // Same state-dict keys, order and shapes as torchvision (parameters and BN buffers).
        var ours = model.StateDict();
        Assert.Equal(entries.Select(e => e.Key), ours.Keys);
        foreach (var e in entries) Assert.Equal(e.Shape, ours[e.Key].Shape);

        var state = entries.ToDictionary(e => e.Key, e => e.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)
            ? Torch.Torch.Zeros([], ScalarType.Int64)
            : Formula(e.Key, e.Shape, e.Offset, e.Amp, e.Square));
        model.LoadStateDict(state);
        model.Eval();

        var input = c.GetProperty("input");
        long b = input.GetProperty("batch").GetInt64(), size = input.GetProperty("size").GetInt64();
        var n = b * 3 * size * size;
        var x = Tensor.From<float>(Enumerable.Range(0, (int)n).Select(i => (float)Math.Sin(0.013 * i)).ToArray(), [b, 3, size, size]);
        using var _ = Torch.Torch.NoGrad();
        var features = model.ForwardFeatures(x);
        Assert.Equal(c.GetProperty("feature_shape").EnumerateArray().Select(v => v.GetInt64()), features.Shape);
        Assert.Equal(config.FeatureSize((int)size), (int)features.Size(2));
        Assertions.Close(TensorData.Parse(c.GetProperty("logits")), model.Forward(x), 2e-4, $"{name} logits");
        Assertions.Close(TensorData.Parse(c.GetProperty("dense")), model.DenseScores(features), 2e-4, $"{name} dense scores");
    }

    [Fact]
    public void ParameterCountsEqualTorchvisions()
    {
        var counts = Fixture.Value.RootElement.GetProperty("param_counts");
        Assert.Equal(25_557_032L, counts.GetProperty("resnet50").GetInt64());
        Assert.Equal(25_557_032L, Meta.Count(d => new ResNet(ResNetConfig.ResNet50, d)));
        Assert.Equal(counts.GetProperty("resnet18").GetInt64(), Meta.Count(d => new ResNet(ResNetConfig.ResNet18, d)));
        Assert.Equal(2048, ResNetConfig.ResNet50.NumFeatures);
        Assert.Equal(32, ResNetConfig.ResNet50.Stride);
        Assert.Equal(18, ResNetConfig.ResNet50.FeatureSize(576)); // Token Labeling's 18×18 maps at 576 (docs/papers/token-labeling.md §1.4)
        // Analytic counts (what `reproduce models` lists) agree with the built models; torchvision lists 4.09 GFLOPS for resnet50.
        Assert.Equal(25_557_032L, ResNetConfig.ResNet50.ParamCount());
        Assert.Equal(counts.GetProperty("resnet18").GetInt64(), ResNetConfig.ResNet18.ParamCount());
        Assert.Equal(4.09, ResNetConfig.ResNet50.Gflops(), 2);
        Assert.Equal(1.81, ResNetConfig.ResNet18.Gflops(), 2);
        Assert.Equal(ResNetConfig.Quick.ParamCount(), Meta.Count(d => new ResNet(ResNetConfig.Quick, d)));
        Assert.Equal(25_557_032L, ModelRegistry.Get("resnet50").Summary().Params);
    }

    /// <summary>The dense map at (i, j) is the classifier applied to that location's features; its mean is the pooled logit.</summary>
    [Theory]
    [InlineData(28, 4)]
    [InlineData(64, 8)]
    public void DenseScoresAreTheClassifierAtEachLocation(int size, int mapSize)
    {
        using var model = new ResNet(ResNetConfig.Quick);
        Assert.Equal(mapSize, ResNetConfig.Quick.FeatureSize(size));
        model.Eval();
        using var scope = Scope.Enter();
        using var _ = Torch.Torch.NoGrad();
        var x = Torch.Torch.Randn([2, 1, size, size]);
        var features = model.ForwardFeatures(x);
        var dense = model.ForwardDense(x);
        Assert.Equal([2L, 10, mapSize, mapSize], dense.Shape);
        for (var i = 0; i < mapSize; i += 3)
            for (var j = 0; j < mapSize; j += 2)
            {
                var atLocation = model.Fc.Forward(features.Select(3, j).Select(2, i));
                var d = dense.Select(3, j).Select(2, i);
                Assert.True(atLocation.Sub(d).Abs().Max().ToDouble() < 1e-5, $"location ({i}, {j})");
            }
        Assert.True(dense.Mean([2, 3]).Sub(model.Forward(x)).Abs().Max().ToDouble() < 1e-5);
    }

    [Fact]
    public void QuickProfileSizeTrainsOnSmallInputs()
    {
        Assert.Equal(308_538L, Meta.Count(d => new ResNet(ResNetConfig.Quick, d)));
        using var model = new ResNet(ResNetConfig.Quick);
        Assert.Equal(["conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"], model.NamedChildren().Select(c => c.Name));
        using var scope = Scope.Enter();
        var x = Torch.Torch.Randn([4, 1, 28, 28]);
        var loss = F.CrossEntropy(model.Forward(x), Tensor.From(new long[] { 0, 3, 9, 1 }));
        loss.Backward();
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
        Assert.Equal(1L, model.Bn1.NumBatchesTracked.ToInt64());

        using var zeroInit = new ResNet(ResNetConfig.Quick with { ZeroInitResidual = true });
        var block = Assert.IsType<Reproduce.Vision.Models.Layers.BasicBlock>(zeroInit.Stages[0][0]);
        Assert.Equal(0.0, block.Bn2.Weight.Abs().Max().ToDouble());
        Assert.Throws<ArgumentException>(() => new ResNetConfig { Layers = [] }.Validate());
    }

    [Fact]
    public void ObjectsAnnotatorGivesScenesVitsTokenGrid()
    {
        // resnet_tiny_objects64: resnet_tiny_fm28 with 3 input channels at 64×64; its 8×8 maps are vit_tiny_scenes64's patch grid.
        var entry = ModelRegistry.Get("resnet_tiny_objects64");
        var config = Assert.IsType<ResNetConfig>(entry.Config);
        Assert.Equal(ResNetConfig.Quick with { InChans = 3, ImgSize = 64 }, config);
        Assert.Equal(308_826L, config.ParamCount());
        Assert.Equal(config.ParamCount(), Meta.Count(d => new ResNet(config, d)));
        Assert.Equal(64, entry.Summary().Resolution);
        Assert.InRange(entry.Summary().Gflops, 0.06, 0.07);
        var vit = Assert.IsType<VitConfig>(ModelRegistry.Get("vit_tiny_scenes64").Config);
        Assert.Equal(vit.ImgSize / vit.PatchSize, config.FeatureSize(64));
        using var model = (ResNet)entry.Create();
        model.Eval();
        using var scope = Scope.Enter();
        using var _ = Torch.Torch.NoGrad();
        Assert.Equal([2L, 10, 8, 8], model.ForwardDense(Torch.Torch.Randn([2, 3, 64, 64])).Shape);
    }
}
