using System.Diagnostics;
using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Tests;

[Collection(SerialCollection.Name)]
public class ModuleTests
{
    private sealed class Mlp : Module<Tensor, Tensor>
    {
        public readonly Linear Fc1, Fc2;
        public readonly LayerNorm Norm;

        public Mlp(long inDim, long hidden, long outDim)
        {
            Fc1 = Register("fc1", new Linear(inDim, hidden));
            Norm = Register("norm", new LayerNorm(hidden));
            Fc2 = Register("fc2", new Linear(hidden, outDim));
        }

        public override Tensor Forward(Tensor x) => Fc2.Forward(F.Gelu(Norm.Forward(Fc1.Forward(x))));
    }

    [Fact]
    public void StateDictKeysFollowRegistrationNames()
    {
        using var model = new Mlp(4, 8, 3);
        using var s = Scope.Enter();
        var keys = model.StateDict().Keys.ToArray();
        Assert.Equal(new[] { "fc1.weight", "fc1.bias", "norm.weight", "norm.bias", "fc2.weight", "fc2.bias" }, keys);
        Assert.Equal(4 * 8 + 8 + 8 + 8 + 8 * 3 + 3, model.ParameterCount());
    }

    [Fact]
    public void LoadStateDictCopiesValuesAndReportsProblems()
    {
        using var a = new Mlp(4, 8, 3);
        using var b = new Mlp(4, 8, 3);
        using var s = Scope.Enter();
        b.LoadStateDict(a.StateDict());
        foreach (var ((na, pa), (nb, pb)) in a.NamedParameters().Zip(b.NamedParameters()))
        {
            Assert.Equal(na, nb);
            Assert.True(pa.Equal(pb));
            Assert.False(pa.IsSameAs(pb));
        }

        var partial = a.StateDict();
        partial.Remove("fc2.bias");
        partial["extra.weight"] = Torch.Zeros([1]);
        var ex = Assert.Throws<TorchException>(() => b.LoadStateDict(partial));
        Assert.Contains("fc2.bias", ex.Message);
        Assert.Contains("extra.weight", ex.Message);
        var r = b.LoadStateDict(partial, strict: false);
        Assert.Equal(new[] { "fc2.bias" }, r.MissingKeys);
        Assert.Equal(new[] { "extra.weight" }, r.UnexpectedKeys);

        var wrong = a.StateDict();
        wrong["fc1.weight"] = Torch.Zeros([8, 5]);
        var shapeEx = Assert.Throws<TorchException>(() => b.LoadStateDict(wrong));
        Assert.Contains("fc1.weight", shapeEx.Message);
        Assert.Contains("[8,5]", shapeEx.Message);
        Assert.Contains("[8,4]", shapeEx.Message);
    }

    [Fact]
    public void BatchNormTracksRunningStatsInTrainingOnly()
    {
        using var bn = new BatchNorm2d(3);
        using var s = Scope.Enter();
        var x = Torch.Randn([4, 3, 5, 5], new Generator(1)).Mul(2.0).Add(1.0);
        bn.Forward(x);
        var mean = x.Mean([0, 2, 3]);
        var var_ = x.Var([0, 2, 3], unbiased: true);
        Assert.True(bn.RunningMean.AllClose(mean.Mul(0.1), 1e-5, 1e-6));
        Assert.True(bn.RunningVar.AllClose(var_.Mul(0.1).Add(0.9), 1e-5, 1e-6));
        Assert.Equal(1, bn.NumBatchesTracked.ToInt64());
        bn.Eval();
        var before = bn.RunningMean.Clone();
        bn.Forward(x);
        Assert.True(bn.RunningMean.Equal(before));
        Assert.Equal(new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }, bn.StateDict().Keys.ToArray());
    }

    [Fact]
    public void DropPathIsIdentityInEvalAndDropsWholeSamplesInTraining()
    {
        using var dp = new DropPath(0.5);
        using var s = Scope.Enter();
        var x = Torch.Ones([64, 3, 4]);
        Torch.ManualSeed(0);
        var y = dp.Forward(x);
        var perSample = y.Sum([1, 2]).ToArray<float>();
        Assert.All(perSample, v => Assert.True(v == 0f || Math.Abs(v - 24f) < 1e-5, $"sample sum {v}"));
        Assert.Contains(0f, perSample);
        dp.Eval();
        Assert.True(dp.Forward(x).Equal(x));
    }

    [Fact]
    public void TruncNormalStaysInBoundsWithTheRightSpread()
    {
        using var s = Scope.Enter();
        var t = Init.TruncNormal_(Torch.Empty([200_000], ScalarType.Float64), std: 1, a: -2, b: 2, generator: new Generator(3));
        Assert.True(t.Min().ToDouble() >= -2 && t.Max().ToDouble() <= 2);
        // Variance of a standard normal truncated to [−2, 2]: 1 − 2·2·φ(2)/(Φ(2) − Φ(−2)).
        var phi2 = Math.Exp(-2) / Math.Sqrt(2 * Math.PI);
        var z = Init.Erf(2 / Math.Sqrt(2));
        var expected = 1 - 4 * phi2 / z;
        Assert.InRange(t.Var([0]).ToDouble(), expected - 0.01, expected + 0.01);
        Assert.InRange(Init.Erf(0.5), 0.5204998778130465 - 1e-15, 0.5204998778130465 + 1e-15);
        Assert.InRange(Init.Erf(3.5), 0.9999992569016276 - 1e-15, 0.9999992569016276 + 1e-15);
    }

    [Fact]
    public void ModuleToConvertsDtypeKeepingIdentity()
    {
        using var m = new Mlp(4, 8, 3);
        var p = m.Parameters().First();
        m.To(ScalarType.Float64);
        Assert.Same(p, m.Parameters().First());
        Assert.Equal(ScalarType.Float64, p.DType);
        Assert.True(p.RequiresGrad);
    }

    /// <summary>
    /// 2,000 training steps of a small MLP (forward, backward, SGD update) must not grow native memory:
    /// the live-tensor counts return to their start values and RSS grows by less than 50 MB.
    /// </summary>
    [Fact]
    public void TrainingLoopDoesNotLeak()
    {
        using var model = new Mlp(32, 64, 10);
        var gen = new Generator(7);
        var x = Torch.Randn([16, 32], gen).DetachFromScope();
        var y = Torch.Randint(0, 10, [16], gen).DetachFromScope();
        void Step()
        {
            using var s = Scope.Enter();
            var loss = F.CrossEntropy(model.Forward(x), y, labelSmoothing: 0.1);
            loss.Backward();
            using (Torch.NoGrad())
                foreach (var p in model.Parameters())
                    p.Sub_(p.Grad!, 0.05);
            model.ZeroGrad();
        }

        double first;
        using (Scope.Enter()) first = F.CrossEntropy(model.Forward(x), y).ToDouble();
        for (var i = 0; i < 100; i++) Step(); // warm up allocator and op caches
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var live = Tensor.LiveCount;
        var nativeLive = Tensor.NativeLiveCount;
        var rss = Process.GetCurrentProcess().WorkingSet64;
        for (var i = 0; i < 2000; i++) Step();
        double last;
        using (Scope.Enter()) last = F.CrossEntropy(model.Forward(x), y).ToDouble();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var growth = Process.GetCurrentProcess().WorkingSet64 - rss;
        Assert.Equal(live, Tensor.LiveCount);
        Assert.Equal(nativeLive, Tensor.NativeLiveCount);
        Assert.True(growth < 50L << 20, $"RSS grew by {growth >> 20} MB over 2,000 steps");
        Assert.True(last < first * 0.1, $"loss did not fall: {first} → {last}");
        x.Dispose();
        y.Dispose();
    }
}
