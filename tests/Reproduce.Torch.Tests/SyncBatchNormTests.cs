using Reproduce.Torch.Distributed;
using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Tests;

/// <summary>
/// SyncBatchNorm: 2 ranks (threads of this process on loopback Gloo) × batch B against plain BatchNorm over the
/// concatenated 2B batch in one process — outputs, input gradients, γ/β gradients (summed over ranks) and running
/// statistics.
/// </summary>
[Collection(SerialCollection.Name)]
public class SyncBatchNormTests
{
    private const int B = 3, C = 4, H = 5, W = 6;

    [Fact]
    public void TwoRanksOfBMatchOneProcessOf2B()
    {
        float[] xs, gs, weight, bias, y, dx, dw, db, runMean, runVar;
        using (Scope.Enter())
        {
            Torch.ManualSeed(11);
            var x = Torch.Randn([2 * B, C, H, W]).Mul(2).Add(1.5);
            var g = Torch.Randn([2 * B, C, H, W]);
            using var bn = new BatchNorm2d(C);
            using (Torch.NoGrad())
            {
                bn.Weight.Copy_(Torch.Randn([C]).Add(1));
                bn.Bias.Copy_(Torch.Randn([C]));
            }
            (xs, gs, weight, bias) = (x.ToArray<float>(), g.ToArray<float>(), bn.Weight.ToArray<float>(), bn.Bias.ToArray<float>());
            var leaf = x.Detach();
            leaf.RequiresGrad = true;
            var output = bn.Forward(leaf);
            output.Mul(g).Sum().Backward();
            (y, dx) = (output.ToArray<float>(), leaf.Grad!.ToArray<float>());
            (dw, db) = (bn.Weight.Grad!.ToArray<float>(), bn.Bias.Grad!.ToArray<float>());
            (runMean, runVar) = (bn.RunningMean.ToArray<float>(), bn.RunningVar.ToArray<float>());
        }
        var per = B * C * H * W;
        DistributedTests.OnRanks(2, group =>
        {
            var r = group.Rank;
            using var bn = new BatchNorm2d(C);
            using (Torch.NoGrad())
            {
                bn.Weight.Copy_(Tensor.From(weight));
                bn.Bias.Copy_(Tensor.From(bias));
            }
            Assert.Equal(1, SyncBatchNorm.Convert(bn, group));
            var x = Tensor.From<float>(xs.AsSpan(r * per, per), [B, C, H, W]);
            x.RequiresGrad = true;
            var g = Tensor.From<float>(gs.AsSpan(r * per, per), [B, C, H, W]);
            var output = bn.Forward(x);
            output.Mul(g).Sum().Backward();
            Close(y.AsSpan(r * per, per), output.ToArray<float>(), "output");
            Close(dx.AsSpan(r * per, per), x.Grad!.ToArray<float>(), "∂L/∂x");
            var dwSum = bn.Weight.Grad!.Clone();
            var dbSum = bn.Bias.Grad!.Clone();
            using (var w1 = group.AllReduce(dwSum)) w1.Wait();
            using (var w2 = group.AllReduce(dbSum)) w2.Wait();
            Close(dw, dwSum.ToArray<float>(), "∂L/∂γ summed over ranks");
            Close(db, dbSum.ToArray<float>(), "∂L/∂β summed over ranks");
            Close(runMean, bn.RunningMean.ToArray<float>(), "running mean");
            Close(runVar, bn.RunningVar.ToArray<float>(), "running var");

            // Evaluation normalises with the running statistics (closed form), as plain BatchNorm does.
            bn.Eval();
            using var noGrad = Torch.NoGrad();
            var expected = x.Sub(bn.RunningMean.View(1, C, 1, 1)).Div(bn.RunningVar.Add(1e-5).Sqrt().View(1, C, 1, 1))
                .Mul(bn.Weight.View(1, C, 1, 1)).Add(bn.Bias.View(1, C, 1, 1));
            Close(expected.ToArray<float>(), bn.Forward(x).ToArray<float>(), "eval output");
            group.Barrier();
        });
    }

    private static void Close(ReadOnlySpan<float> want, float[] got, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (var i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= 2e-5 + 2e-5 * Math.Abs(want[i]), $"{what}[{i}]: {got[i]} vs {want[i]}");
    }
}
