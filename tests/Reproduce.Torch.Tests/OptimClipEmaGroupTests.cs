using System.Text.Json;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;
using static Reproduce.Torch.Tests.OptimFixture;

namespace Reproduce.Torch.Tests;

[Collection(SerialCollection.Name)]
public class OptimClipEmaGroupTests
{
    [Theory]
    [InlineData("l2")]
    [InlineData("inf")]
    [InlineData("l1_missing_grad")]
    [InlineData("l2_inactive")]
    public void ClipGradNormMatchesPyTorch(string name)
    {
        var c = Named("clip", name);
        var ps = FreshParams();
        try
        {
            SetGrads(ps, c.GetProperty("step").GetInt32());
            var normType = c.GetProperty("norm_type") is { ValueKind: JsonValueKind.String } ? double.PositiveInfinity : c.GetProperty("norm_type").GetDouble();
            using var s = Scope.Enter();
            var total = GradClip.ClipGradNorm(ps, c.GetProperty("max_norm").GetDouble(), normType);
            AssertClose(c.GetProperty("total_norm").GetDouble(), total.ToDouble(), $"{name}: total norm");
            var grads = c.GetProperty("grads");
            for (var i = 0; i < ps.Length; i++)
            {
                if (grads[i].ValueKind == JsonValueKind.Null) Assert.Null(ps[i].Grad);
                else AssertClose(Doubles(grads[i]), ps[i].Grad!, $"{name}: grad {i}");
            }
        }
        finally
        {
            foreach (var p in ps) p.Dispose();
        }
    }

    [Fact]
    public void ClipGradNormWithoutGradientsIsZero()
    {
        var ps = FreshParams();
        try
        {
            using var s = Scope.Enter();
            var total = GradClip.ClipGradNorm(ps, 1.0);
            Assert.Equal(0.0, total.ToDouble());
        }
        finally
        {
            foreach (var p in ps) p.Dispose();
        }
    }

    private static JsonElement Ema => Root.GetProperty("ema");

    /// <summary>A twin of the Python EmaNet (Linear(3,2) + BatchNorm1d(2)) with the given state.</summary>
    private static Bag EmaNet(int state)
    {
        var net = new Bag();
        using var s = Scope.Enter();
        var values = Ema.GetProperty("model_states")[state];
        foreach (var key in Ema.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!))
        {
            var shape = Ema.GetProperty("shapes").GetProperty(key).EnumerateArray().Select(x => x.GetInt64()).ToArray();
            var t = Tensor.From(Doubles(values.GetProperty(key)), shape);
            if (Ema.GetProperty("dtypes").GetProperty(key).GetString() == "int64") net.AddBuffer(key, t.To(ScalarType.Int64));
            else if (key.Contains("running")) net.AddBuffer(key, t);
            else net.AddParameter(key, t);
        }
        return net;
    }

    private static void LoadState(Module net, int state)
    {
        using var s = Scope.Enter();
        var values = Ema.GetProperty("model_states")[state];
        var sd = net.StateDict();
        net.LoadStateDict(sd.ToDictionary(kv => kv.Key, kv => Tensor.From(Doubles(values.GetProperty(kv.Key)), kv.Value.Shape).To(kv.Value.DType)));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("warmup")]
    [InlineData("no_step")]
    public void ModelEmaMatchesTimmV3(string name)
    {
        var c = Ema.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        using var net = EmaNet(0);
        using var ema = new ModelEma(net, c.GetProperty("decay").GetDouble(), c.GetProperty("min_decay").GetDouble(),
            c.GetProperty("update_after_step").GetInt64(), c.GetProperty("use_warmup").GetBoolean(),
            c.GetProperty("gamma").GetDouble(), c.GetProperty("power").GetDouble());
        var passStep = c.GetProperty("pass_step").GetBoolean();
        var decays = Doubles(c.GetProperty("decays"));
        for (var k = 1; k <= decays.Length; k++)
        {
            LoadState(net, k);
            long? step = passStep ? k : null;
            AssertClose(decays[k - 1], ema.GetDecay(step), $"{name}: decay at {k}");
            ema.Update(net, step);
        }
        var shadow = c.GetProperty("shadow");
        Assert.Equal(Ema.GetProperty("keys").EnumerateArray().Select(k => k.GetString()), ema.Shadow.Select(e => e.Key));
        foreach (var (key, value) in ema.Shadow)
        {
            Assert.Equal(key.EndsWith("num_batches_tracked") ? ScalarType.Int64 : ScalarType.Float64, value.DType);
            AssertClose(Doubles(shadow.GetProperty(key)), value, $"{name}: {key}");
        }

        // ApplyTo loads the shadow into a module; StateDict/LoadStateDict round-trip it.
        using var target = EmaNet(0);
        ema.ApplyTo(target);
        using var s = Scope.Enter();
        foreach (var (key, t) in target.StateDict()) AssertClose(Doubles(shadow.GetProperty(key)), t, $"{name}: applied {key}");
        var saved = ema.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        ema.Set(net);
        AssertClose(Doubles(Ema.GetProperty("model_states")[decays.Length].GetProperty("fc.weight")), ema.Shadow[0].Value, "after Set");
        ema.LoadStateDict(saved);
        AssertClose(Doubles(shadow.GetProperty("fc.weight")), ema.Shadow[0].Value, "after LoadStateDict");
    }

    [Fact]
    public void ModelEmaKeepsDtypesAndLeaksNothing()
    {
        using var net = EmaNet(0);
        net.To(ScalarType.Float32);
        using var ema = new ModelEma(net, decay: 0.5);
        Assert.All(ema.Shadow, e => Assert.Equal(e.Key.EndsWith("num_batches_tracked") ? ScalarType.Int64 : ScalarType.Float32, e.Value.DType));
        Assert.All(ema.Shadow, e => Assert.Equal(Device.Cpu, e.Value.Device));
        ema.Update(net);
        var (live, native) = (Tensor.LiveCount, Tensor.NativeLiveCount);
        for (var k = 0; k < 100; k++) ema.Update(net, k);
        Assert.Equal(live, Tensor.LiveCount);
        Assert.Equal(native, Tensor.NativeLiveCount);
        // the shadow is a copy: changing it leaves the model alone
        using var s = Scope.Enter();
        ema.Shadow[0].Value.Fill_(7);
        Assert.NotEqual(7.0, net.StateDict()["fc.weight"].Max().ToDouble());
    }

    [Theory]
    [InlineData("vit")]
    [InlineData("none")]
    [InlineData("wildcard")]
    public void WeightDecayExclusionMatchesTimm(string name)
    {
        var spec = Root.GetProperty("weight_decay_groups");
        var c = spec.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        using var model = new Bag();
        var names = new Dictionary<Parameter, string>(ReferenceEqualityComparer.Instance);
        using (Scope.Enter())
            foreach (var p in spec.GetProperty("params").EnumerateArray())
            {
                var shape = p.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                var param = model.AddParameter(p.GetProperty("name").GetString()!, Torch.Zeros(shape, ScalarType.Float64), p.GetProperty("requires_grad").GetBoolean());
                names[param] = p.GetProperty("name").GetString()!;
            }
        // the twin lists its parameters in the Python model's order
        Assert.Equal(spec.GetProperty("params").EnumerateArray().Select(p => p.GetProperty("name").GetString()), model.NamedParameters().Select(x => x.Name));

        var patterns = c.GetProperty("no_weight_decay").EnumerateArray().Select(x => x.GetString()!).ToArray();
        var groups = ParamGroups.WeightDecayExclusion(model, c.GetProperty("weight_decay").GetDouble(), patterns);
        var expected = c.GetProperty("groups");
        Assert.Equal(expected.GetArrayLength(), groups.Count);
        for (var g = 0; g < groups.Count; g++)
        {
            Assert.Equal(expected[g].GetProperty("weight_decay").GetDouble(), groups[g].WeightDecay);
            Assert.Equal(expected[g].GetProperty("names").EnumerateArray().Select(x => x.GetString()), groups[g].Parameters.Select(p => names[p]));
        }
        using var opt = new AdamW(groups, lr: 1e-3, weightDecay: 0.3);
        Assert.Equal(c.GetProperty("weight_decay").GetDouble(), opt.Groups[^1].WeightDecay);
    }

    [Theory]
    [InlineData("blocks.*.attn.*", "blocks.10.attn.qkv.weight", true)]
    [InlineData("blocks.?.norm", "blocks.10.norm", false)]
    [InlineData("[!a-c]os_embed", "pos_embed", true)]
    [InlineData("[a-c]os_embed", "pos_embed", false)]
    [InlineData("pos_embed", "pos_embed\n", false)]
    [InlineData("cls[_]token", "cls_token", true)]
    public void FnmatchPatternsBehaveLikePython(string pattern, string name, bool match) =>
        Assert.Equal(match, ParamGroups.FnmatchRegex(pattern).IsMatch(name));
}
