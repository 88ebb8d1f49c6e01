using System.Text.Json;
using Reproduce.Training.Config;
using Reproduce.Training.Probes;
using Reproduce.Vision.Models;
using static Reproduce.Training.Tests.Pretraining.SslFixture;

namespace Reproduce.Training.Tests.Probes;

/// <summary>
/// DINOv2's linear evaluation against tests/fixtures/ssl/linear_probe.json (gen_linear_probe.py: dinov2's
/// get_intermediate_layers with norm, create_linear_input, LinearClassifier, SGD momentum 0.9 with one group per head
/// and CosineAnnealingLR, in float64 PyTorch on a depth-4 ViT): every head's features (n = 1 and 4, with and without
/// the pooled patch tokens) and logits, and two training steps of the whole grid.
/// </summary>
public sealed class LinearProbeReferenceTests
{
    private static readonly VitConfig Backbone = new()
    {
        ImgSize = 8, PatchSize = 4, InChans = 3, NumClasses = 0, EmbedDim = 8, Depth = 4, NumHeads = 2, MlpRatio = 2.0,
    };

    private static Dictionary<string, Tensor> State(JsonElement e) => e.EnumerateObject().ToDictionary(p => p.Name,
        p => T(p.Value.GetProperty("values"), Longs(p.Value.GetProperty("shape"))));

    [Fact]
    public void TheGridsFeaturesLogitsAndTwoSgdStepsEqualTheReference()
    {
        var r = Load("linear_probe");
        using var outer = Scope.Enter();
        using var backbone = new VisionTransformer(Backbone);
        backbone.To(ScalarType.Float64);
        var state = State(r.GetProperty("backbone"));
        Assert.Equal(state.Keys.Order(), backbone.StateDict().Keys.Order());
        backbone.LoadStateDict(state);
        ProbeInputs.Freeze(backbone);

        var specs = r.GetProperty("specs").EnumerateArray()
            .Select(s => new LinearHeadSpec(s.GetProperty("n").GetInt32(), s.GetProperty("avgpool").GetBoolean(), s.GetProperty("lr").GetDouble())).ToArray();
        Assert.Equal(r.GetProperty("specs").EnumerateArray().Select(s => s.GetProperty("name").GetString()), specs.Select(s => s.Name));
        using var grid = new LinearClassifierGrid(specs, 8, r.GetProperty("classes").GetInt64());
        grid.To(ScalarType.Float64);
        var heads = grid.StateDict();
        var initial = r.GetProperty("initial_heads").EnumerateObject().ToDictionary(p => p.Name, p => Tensor.From(Doubles(p.Value), heads[p.Name].Shape));
        Assert.Equal(initial.Keys.Order(), heads.Keys.Order()); // DINOv2's keys: classifiers_dict.{name}.linear.weight|bias
        grid.LoadStateDict(initial);

        using var optimizer = ClassificationProbe.Optimizer(grid);
        var schedule = ClassificationProbe.Schedule(2);
        var batch = r.GetProperty("batch").GetInt32();
        var blocks = new[] { 0, 1, 2, 3 };
        for (var step = 0; step < 2; step++)
        {
            using var scope = Scope.Enter();
            var b = r.GetProperty("batches")[step];
            var x = T(b.GetProperty("images"), batch, 3, 8, 8);
            var y = Tensor.From(Longs(b.GetProperty("labels")), [batch]);
            var expected = r.GetProperty("steps")[step];
            schedule.Apply(optimizer, step);
            AssertClose(Doubles(expected.GetProperty("lrs")), optimizer.Groups.Select(g => g.Lr).ToArray(), $"step {step} lrs", 1e-15);
            var layers = ClassificationProbe.Features(backbone, x, blocks);
            if (step == 0)
            {
                var logits = grid.Forward(layers);
                for (var h = 0; h < specs.Length; h++)
                {
                    var name = specs[h].Name;
                    AssertClose(Doubles(expected.GetProperty("features").GetProperty(name)),
                        LinearClassifierGrid.Features(layers, specs[h].NLastBlocks, specs[h].Avgpool), $"features of {name}");
                    AssertClose(Doubles(expected.GetProperty("logits").GetProperty(name)), logits[h], $"logits of {name}");
                }
            }
            var loss = grid.Loss(layers, y);
            AssertClose(expected.GetProperty("loss").GetDouble(), loss.ToDouble(), $"step {step} loss");
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
            var after = grid.StateDict();
            foreach (var p in expected.GetProperty("heads_after").EnumerateObject())
                AssertClose(Doubles(p.Value), after[p.Name], $"{p.Name} after step {step}");
        }
        Assert.All(backbone.Parameters(), p => Assert.Null(p.Grad)); // frozen: nothing reaches the backbone
    }

    [Fact]
    public void HeadsStartAsDinoV2sLinearClassifier()
    {
        using var scope = Scope.Enter();
        Torch.Torch.ManualSeed(3);
        using var grid = new LinearClassifierGrid([new LinearHeadSpec(4, true, 0.1)], 96, 1000);
        var state = grid.StateDict();
        var w = state["classifiers_dict.classifier_4_blocks_avgpool_True_lr_0_10000.linear.weight"];
        Assert.Equal([1000L, 480L], w.Shape);
        // 480,000 draws of N(0, 0.01²): the sample std's standard error is 0.01/√(2·480,000) ≈ 1e-5.
        var values = w.To(ScalarType.Float64).ToArray<double>();
        var mean = values.Average();
        var std = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(std, 0.01 - 1e-4, 0.01 + 1e-4);
        Assert.InRange(mean, -1e-4, 1e-4);
        Assert.All(state["classifiers_dict.classifier_4_blocks_avgpool_True_lr_0_10000.linear.bias"].ToArray<float>(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void TheGridScalesEachLrByTheGlobalBatchOver256InDinoV2sOrder()
    {
        var config = ProbeRun.Resolve(ProbeTask.Classification, null, ["probe.lrs=[0.1,0.01]"]);
        var specs = ClassificationProbeRun.Grid(config, depth: 4, globalBatch: 512);
        Assert.Equal(
            [(1, false, 0.2), (1, false, 0.02), (1, true, 0.2), (1, true, 0.02), (4, false, 0.2), (4, false, 0.02), (4, true, 0.2), (4, true, 0.02)],
            specs.Select(s => (s.NLastBlocks, s.Avgpool, Math.Round(s.Lr, 12))));
        Assert.Equal("classifier_4_blocks_avgpool_True_lr_0_02000", specs[^1].Name);
        // Without probe.lrs the grid has the one lr optim.lr; a backbone of fewer than four blocks gets n = 1 only.
        var single = ClassificationProbeRun.Grid(ProbeRun.Resolve(ProbeTask.Classification, null, ["optim.lr=0.5"]), depth: 3, globalBatch: 256);
        Assert.Equal([(1, false, 0.5), (1, true, 0.5)], single.Select(s => (s.NLastBlocks, s.Avgpool, s.Lr)));
    }
}
