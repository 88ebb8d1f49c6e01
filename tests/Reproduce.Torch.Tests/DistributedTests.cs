using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Reproduce.Torch.Distributed;
using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Tests;

/// <summary>
/// c10d through the binding: the ranks of a Gloo group are threads of this process, each with its own store client
/// and Gloo context on loopback, so the collectives and the gradient buckets are checked against closed forms and
/// against gradients computed rank by rank without communication.
/// </summary>
[Collection(SerialCollection.Name)]
public class DistributedTests
{
    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Runs <paramref name="body"/> as every rank of a fresh group, one thread each; rethrows the first failure.</summary>
    internal static void OnRanks(int world, Action<ProcessGroup> body, double timeoutSeconds = 30)
    {
        var port = FreePort();
        var errors = new Exception?[world];
        var threads = Enumerable.Range(0, world).Select(r => new Thread(() =>
        {
            try
            {
                using var g = ProcessGroup.Init(new DistEnvironment(r, world, r, world, "127.0.0.1", port, false, "test"), TimeSpan.FromSeconds(timeoutSeconds));
                using var scope = Scope.Enter();
                body(g);
            }
            catch (Exception e)
            {
                errors[r] = e;
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(60)), "a rank did not finish in 60 s");
        foreach (var e in errors)
            if (e is not null) throw new Xunit.Sdk.XunitException($"a rank failed: {e}");
    }

    [Fact]
    public void CollectivesMatchTheirDefinitions()
    {
        Assert.Null(ProcessGroup.UnavailableReason);
        OnRanks(2, g =>
        {
            var r = g.Rank;
            var sum = Tensor.From(new[] { 1f, 2f, 3f }).Mul(r + 1);
            var avg = Tensor.From(new[] { 1f, 2f, 3f }).Mul(r + 1);
            using var w1 = g.AllReduce(sum, ReduceOp.Sum);  // two in flight at once
            using var w2 = g.AllReduce(avg, ReduceOp.Average);
            w1.Wait();
            w2.Wait();
            Assert.Equal(new[] { 3f, 6f, 9f }, sum.ToArray<float>());
            Assert.Equal(new[] { 1.5f, 3f, 4.5f }, avg.ToArray<float>());

            var b = Tensor.From(new[] { 10.0 + r, 20.0 + r });
            using (var w = g.Broadcast(b, root: 1)) w.Wait();
            Assert.Equal(new[] { 11.0, 21.0 }, b.ToArray<double>());

            using var gather = g.AllGather(Tensor.From(new long[] { r, 10 * r, 100 * r }));
            var all = gather.Wait()!;
            Assert.Equal(new long[] { 2, 3 }, all.Shape);
            Assert.Equal(new long[] { 0, 0, 0, 1, 10, 100 }, all.ToArray<long>());
            g.Barrier();
        });
    }

    private sealed class Net : Module<Tensor, Tensor>
    {
        public readonly Linear A, B, C;

        public Net()
        {
            A = Register("a", new Linear(5, 16));
            B = Register("b", new Linear(16, 16));
            C = Register("c", new Linear(16, 3));
        }

        public override Tensor Forward(Tensor x) => C.Forward(F.Gelu(B.Forward(F.Gelu(A.Forward(x)))));
    }

    private static Tensor Input(int rank, int micro) => Torch.Randn([4, 5], new Generator(1000 + (ulong)(rank * 10 + micro)));

    /// <summary>The gradients of one rank's micro-steps, computed alone (no group): the reference.</summary>
    private static Dictionary<string, float[]> LocalGrads(Net net, int rank, int micros)
    {
        using var scope = Scope.Enter();
        foreach (var p in net.Parameters()) p.ZeroGrad();
        for (var m = 0; m < micros; m++) net.Forward(Input(rank, m)).Square().Mean().Backward();
        var grads = net.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToArray<float>());
        foreach (var p in net.Parameters()) p.ZeroGrad();
        return grads;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void GradientBucketsAverageTheRanksGradientsDuringBackward(int accumulation)
    {
        const int world = 2;
        Torch.ManualSeed(7);
        var nets = Enumerable.Range(0, world).Select(_ => new Net()).ToArray();
        // Different starting weights on purpose: the averaged gradient must not depend on them except through each rank's own backward.
        var expected = Enumerable.Range(0, world).Select(r => LocalGrads(nets[r], r, accumulation)).ToArray();
        var overlap = new (int Issued, int Buckets)[world];
        var local = new Dictionary<string, float[]>[world];
        OnRanks(world, g =>
        {
            var net = nets[g.Rank];
            using var buckets = new GradientBuckets(g, net.Parameters(), capBytes: 16 * 16 * 4); // several buckets
            for (var m = 0; m < accumulation; m++)
            {
                var last = m == accumulation - 1;
                buckets.Sync = last;
                net.Forward(Input(g.Rank, m)).Square().Mean().Backward();
                if (!last) local[g.Rank] = net.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToArray<float>());
                else buckets.Finish();
            }
            overlap[g.Rank] = buckets.LastOverlap;
        });
        foreach (var r in Enumerable.Range(0, world))
        {
            foreach (var (name, p) in nets[r].NamedParameters())
            {
                var got = p.Grad!.ToArray<float>();
                for (var i = 0; i < got.Length; i++)
                {
                    var want = (expected[0][name][i] + expected[1][name][i]) / 2;
                    Assert.True(Math.Abs(got[i] - want) <= 1e-6 + 1e-5 * Math.Abs(want), $"rank {r} {name}[{i}]: {got[i]} vs {want}");
                }
            }
            Assert.True(overlap[r].Buckets >= 3, $"expected several buckets, got {overlap[r].Buckets}");
            Assert.True(overlap[r].Issued > 0, "no bucket was issued from a gradient hook during backward");
            if (accumulation > 1) // the micro-step before the last reduced nothing: still rank r's own gradient
                Assert.NotEqual(local[0]["c.bias"], local[1]["c.bias"]);
        }
        foreach (var n in nets) n.Dispose();
    }

    [Fact]
    public void AnUnreachableStoreFailsWithinTheTimeoutNamingRankAndRendezvous()
    {
        var port = FreePort(); // nobody listens there
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<TorchException>(() =>
            ProcessGroup.Init(new DistEnvironment(1, 2, 1, 2, "127.0.0.1", port, false, "test"), TimeSpan.FromSeconds(2)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Contains("rank 1 of 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("rendezvous", e.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACollectiveWhosePeerLeftFailsNamingRankAndCollective()
    {
        var e = Assert.Throws<Xunit.Sdk.XunitException>(() => OnRanks(2, g =>
        {
            if (g.Rank == 1) return; // leaves without joining the all-reduce
            using var w = g.AllReduce(Tensor.From(new[] { 1f }));
            w.Wait();
        }, timeoutSeconds: 5));
        Assert.Contains("rank 0 of 2 (gloo) allreduce(sum) failed", e.Message, StringComparison.Ordinal);
    }
}
