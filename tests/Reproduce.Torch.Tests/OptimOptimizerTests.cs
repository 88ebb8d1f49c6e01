using System.Text.Json;
using System.Text.Json.Nodes;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;
using static Reproduce.Torch.Tests.OptimFixture;

namespace Reproduce.Torch.Tests;

[Collection(SerialCollection.Name)]
public class OptimOptimizerTests
{
    [Theory]
    [InlineData("adamw")]
    [InlineData("adamw_amsgrad")]
    [InlineData("adamw_defaults")]
    [InlineData("sgd")]
    [InlineData("sgd_momentum")]
    [InlineData("sgd_dampening")]
    [InlineData("sgd_nesterov")]
    [InlineData("sgd_wd")]
    [InlineData("lamb")]
    [InlineData("lamb_trust_clip")]
    [InlineData("lamb_always_adapt")]
    [InlineData("lamb_no_bias_correction_no_averaging")]
    [InlineData("lamb_no_clip")]
    [InlineData("lamb_clip_inactive")]
    public void MatchesPyTorchAfterSeveralSteps(string name)
    {
        var c = Named("optimizers", name);
        var ps = FreshParams();
        try
        {
            using var opt = Build(c, ps);
            for (var k = 0; k < Steps; k++)
            {
                SetGrads(ps, k);
                opt.Step();
            }
            AssertMatches(c, ps, opt, name);
        }
        finally
        {
            foreach (var p in ps) p.Dispose();
        }
    }

    /// <summary>Parameters, state tensors (names and values) and step counts against the reference.</summary>
    private static void AssertMatches(JsonElement c, Parameter[] ps, Optimizer opt, string name)
    {
        using var s = Scope.Enter();
        var expectedParams = c.GetProperty("params");
        for (var i = 0; i < ps.Length; i++) AssertClose(Doubles(expectedParams[i]), ps[i], $"{name}: param {i}");

        var sd = opt.StateDict();
        var expectedKeys = new HashSet<string>();
        foreach (var entry in c.GetProperty("state").EnumerateObject())
        {
            foreach (var v in entry.Value.EnumerateObject())
            {
                if (v.Name == "step")
                {
                    Assert.Equal(v.Value.GetInt64(), (long)sd.Meta["state"]![entry.Name]!["step"]!);
                    continue;
                }
                var key = $"state.{entry.Name}.{v.Name}";
                expectedKeys.Add(key);
                Assert.True(sd.Tensors.ContainsKey(key), $"{name}: state dict lacks {key}; has [{string.Join(", ", sd.Tensors.Keys)}]");
                AssertClose(Doubles(v.Value), sd.Tensors[key], $"{name}: {key}");
            }
        }
        Assert.Equal(expectedKeys.Order(), sd.Tensors.Keys.Order());
        var groupSteps = c.GetProperty("group_steps");
        for (var g = 0; g < groupSteps.GetArrayLength(); g++)
            if (groupSteps[g].ValueKind != JsonValueKind.Null)
                Assert.Equal(groupSteps[g].GetInt64(), (long)sd.Meta["param_groups"]![g]!["step"]!);
    }

    [Theory]
    [InlineData("adamw_amsgrad")]
    [InlineData("sgd_nesterov")]
    [InlineData("sgd_wd")]
    [InlineData("lamb")]
    public void StateDictRoundTripContinuesBitIdentically(string name)
    {
        var c = Named("optimizers", name);
        var a = FreshParams();
        var b = FreshParams();
        try
        {
            using var optA = Build(c, a);
            const int half = 3;
            for (var k = 0; k < half; k++)
            {
                SetGrads(a, k);
                optA.Step();
            }
            // A learning rate that must survive the JSON round trip exactly.
            optA.Groups[0].Lr = 0.1 / 3;
            optA.Groups[^1].LrScale = 0.7;

            // Save as a checkpoint would: tensors as raw bytes (safetensors) and metadata as a JSON string.
            string json;
            var saved = new List<(string Key, byte[] Bytes, ScalarType DType, long[] Shape)>();
            using (Scope.Enter())
            {
                var sd = optA.StateDict();
                json = sd.MetaJson();
                foreach (var (key, t) in sd.Tensors) saved.Add((key, t.ToBytes(), t.DType, t.Shape));
            }
            using (Scope.Enter())
            using (Torch.NoGrad())
                for (var i = 0; i < a.Length; i++) b[i].Copy_(a[i]);

            var other = Build(c, b);
            try
            {
                // Changing B's hyperparameters first shows that loading restores them.
                foreach (var g in other.Groups) g.Lr = 123;
                using (Scope.Enter())
                {
                    var tensors = saved.ToDictionary(x => x.Key, x => Tensor.FromBytes(x.Bytes, x.DType, x.Shape));
                    other.LoadStateDict(OptimizerState.FromJson(json, tensors));
                }
                for (var g = 0; g < optA.Groups.Count; g++)
                {
                    Assert.Equal(optA.Groups[g].Lr, other.Groups[g].Lr);
                    Assert.Equal(optA.Groups[g].LrScale, other.Groups[g].LrScale);
                    Assert.Equal(optA.Groups[g].Options, other.Groups[g].Options);
                }

                for (var k = half; k < Steps; k++)
                {
                    SetGrads(a, k);
                    SetGrads(b, k);
                    optA.Step();
                    other.Step();
                }
                using var s = Scope.Enter();
                for (var i = 0; i < a.Length; i++)
                    Assert.Equal(a[i].ToArray<double>(), b[i].ToArray<double>());
                var (sa, sb) = (optA.StateDict(), other.StateDict());
                Assert.Equal(sa.MetaJson(), sb.MetaJson());
                Assert.Equal(sa.Tensors.Keys.Order(), sb.Tensors.Keys.Order());
                foreach (var (key, t) in sa.Tensors) Assert.Equal(t.ToArray<double>(), sb.Tensors[key].ToArray<double>());
            }
            finally
            {
                other.Dispose();
            }
        }
        finally
        {
            foreach (var p in a.Concat(b)) p.Dispose();
        }
    }

    [Fact]
    public void LoadStateDictRejectsAMismatchedOptimizer()
    {
        var ps = FreshParams();
        try
        {
            using var adam = Build(Named("optimizers", "adamw"), ps);
            using var sgd = Build(Named("optimizers", "sgd_momentum"), ps);
            using var single = new AdamW(ps);
            SetGrads(ps, 0);
            adam.Step();
            using var s = Scope.Enter();
            var sd = adam.StateDict();
            Assert.Contains("AdamW", Assert.Throws<TorchException>(() => sgd.LoadStateDict(sd)).Message);
            Assert.Contains("parameter groups", Assert.Throws<TorchException>(() => single.LoadStateDict(sd)).Message);
            var bad = new Dictionary<string, Tensor>(sd.Tensors) { ["state.0.exp_avg"] = Torch.Zeros([5], ScalarType.Float64) };
            Assert.Contains("shape", Assert.Throws<TorchException>(() => adam.LoadStateDict(new OptimizerState(bad, sd.Meta))).Message);
        }
        finally
        {
            foreach (var p in ps) p.Dispose();
        }
    }

    [Fact]
    public void StepsLeakNoTensors()
    {
        var ps = FreshParams();
        try
        {
            SetGrads(ps, 0);
            var opts = new Optimizer[]
            {
                Build(Named("optimizers", "adamw_amsgrad"), ps),
                Build(Named("optimizers", "sgd_nesterov"), ps),
                Build(Named("optimizers", "lamb_trust_clip"), ps),
            };
            foreach (var o in opts) o.Step(); // allocates the state
            var (live, native) = (Tensor.LiveCount, Tensor.NativeLiveCount);
            for (var k = 0; k < 100; k++)
                foreach (var o in opts)
                {
                    o.Step();
                    new CosineSchedule(100, 1e-6, 10, 1e-7).Apply(o, k);
                }
            Assert.Equal(live, Tensor.LiveCount);
            Assert.Equal(native, Tensor.NativeLiveCount);
            foreach (var o in opts) o.ZeroGrad();
            Assert.All(ps, p => Assert.Null(p.Grad));
            foreach (var o in opts) o.Dispose();
        }
        finally
        {
            foreach (var p in ps) p.Dispose();
        }
    }

    [Fact]
    public void ZeroGradCanKeepZeroedGradients()
    {
        var ps = FreshParams();
        try
        {
            SetGrads(ps, 0);
            using var opt = new Sgd(ps, lr: 0.1);
            opt.ZeroGrad(setToNone: false);
            using var s = Scope.Enter();
            Assert.All(ps, p => Assert.Equal(0.0, p.Grad!.Abs().Sum().ToDouble()));
            var before = ps.Select(p => p.ToArray<double>()).ToArray();
            opt.Step();
            for (var i = 0; i < ps.Length; i++) Assert.Equal(before[i], ps[i].ToArray<double>());
        }
        finally
        {
            foreach (var p in ps) p.Dispose();
        }
    }

    [Fact]
    public void GroupsTakeDefaultsAndRejectSharedParameters()
    {
        var ps = FreshParams();
        try
        {
            var groups = new[] { new ParamGroup(ps[..2], weightDecay: 0.0, lrScale: 0.5, name: "no_decay"), new ParamGroup(ps[2..], lr: 0.5) };
            using var opt = new AdamW(groups, lr: 0.01, weightDecay: 0.05, new AdamWOptions(Beta2: 0.95));
            Assert.Equal((0.01, 0.01, 0.0, 0.5), (opt.Groups[0].Lr, opt.Groups[0].InitialLr, opt.Groups[0].WeightDecay, opt.Groups[0].LrScale));
            Assert.Equal((0.5, 0.5, 0.05), (opt.Groups[1].Lr, opt.Groups[1].InitialLr, opt.Groups[1].WeightDecay));
            Assert.Equal(0.95, ((AdamWOptions)opt.Groups[1].Options!).Beta2);
            Assert.Throws<ArgumentException>(() => new Sgd([new ParamGroup(ps), new ParamGroup(ps[..1])], lr: 0.1));
            Assert.Throws<ArgumentException>(() => new Sgd([new ParamGroup(ps, options: new AdamWOptions())], lr: 0.1));
            Assert.Throws<ArgumentException>(() => new Sgd(ps, lr: 0.1, options: new SgdOptions(Nesterov: true)));

            using var s = Scope.Enter();
            var meta = JsonNode.Parse(opt.StateDict().MetaJson())!;
            Assert.Equal("no_decay", (string?)meta["param_groups"]![0]!["name"]);
            Assert.Equal(0.95, (double)meta["param_groups"]![1]!["options"]!["Beta2"]!);
        }
        finally
        {
            foreach (var p in ps) p.Dispose();
        }
    }
}
