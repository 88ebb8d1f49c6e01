namespace Reproduce.Torch.Tests;

/// <summary>
/// Scope ownership (nesting, MoveOut, DetachFromScope), live-handle accounting, and ops returning
/// more results than the inline buffer (the native "results pending" path). Serial: the live counts
/// are process-wide.
/// </summary>
[Collection(SerialCollection.Name)]
public class ScopeTests
{
    /// <summary>Managed and native live counts after finalising any garbage from earlier tests.</summary>
    private static (long Managed, long Native) Live()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return (Tensor.LiveCount, Tensor.NativeLiveCount);
    }

    [Fact]
    public void NestedScopesFreeInnermostFirst()
    {
        var before = Live();
        Tensor outerT, innerT;
        using (var outer = Scope.Enter())
        {
            outerT = Torch.Ones([2]);
            using (var inner = Scope.Enter())
            {
                Assert.Same(inner, Scope.Current);
                innerT = outerT.Add(1.0);
                Assert.Equal(1, inner.Count);
                Assert.Equal(1, outer.Count);
            }
            Assert.Same(outer, Scope.Current);
            Assert.True(innerT.IsDisposed);
            Assert.False(outerT.IsDisposed);
            Assert.Equal(before.Managed + 1, Tensor.LiveCount);
        }
        Assert.True(outerT.IsDisposed);
        Assert.Equal(before, Live());
    }

    [Fact]
    public void MoveOutHandsATensorToTheEnclosingScope()
    {
        var before = Live();
        using (var outer = Scope.Enter())
        {
            Tensor kept, dropped;
            using (var inner = Scope.Enter())
            {
                kept = inner.MoveOut(Torch.Ones([3]).Mul(2.0));
                dropped = Torch.Ones([3]);
                Assert.Equal(2, inner.Count); // the Ones behind `kept`, and `dropped`
                Assert.Throws<InvalidOperationException>(() => outer.MoveOut(dropped)); // not outer's
            }
            Assert.True(dropped.IsDisposed);
            Assert.False(kept.IsDisposed);
            Assert.Equal(1, outer.Count);
            Assert.Equal(new[] { 2f, 2f, 2f }, kept.ToArray<float>());
            // MoveToOuterScope from a two-deep nest
            Tensor up;
            using (Scope.Enter())
            {
                using (Scope.Enter()) up = Torch.Zeros([1]).MoveToOuterScope().MoveToOuterScope();
            }
            Assert.False(up.IsDisposed);
            Assert.Equal(2, outer.Count);
        }
        Assert.Equal(before, Live());
    }

    [Fact]
    public void DetachFromScopeGivesOwnershipToTheCaller()
    {
        var before = Live();
        Tensor mine;
        using (var s = Scope.Enter())
        {
            mine = Torch.Full([2], 5.0).DetachFromScope();
            Assert.Equal(0, s.Count);
        }
        Assert.False(mine.IsDisposed);
        var sum = mine.Sum(); // created outside any scope: the caller owns it too
        Assert.Null(sum.OwnerScope);
        Assert.Equal(10.0, sum.ToDouble());
        Assert.Equal(before.Managed + 2, Tensor.LiveCount);
        mine.Dispose();
        sum.Dispose();
        Assert.Equal(before, Live());
    }

    [Fact]
    public void DisposingInsideAScopeIsNotADoubleFree()
    {
        var before = Live();
        using (var s = Scope.Enter())
        {
            var a = Torch.Ones([2]);
            var b = a.Exp();
            a.Dispose();
            Assert.Equal(1, s.Count);
            Assert.False(b.IsDisposed);
        }
        Assert.Equal(before, Live());
    }

    [Fact]
    public void ScopesMustCloseInnermostFirst()
    {
        var outer = Scope.Enter();
        var inner = Scope.Enter();
        var ex = Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        Assert.Contains("innermost first", ex.Message);
        inner.Dispose();
        outer.Dispose();
        outer.Dispose(); // idempotent
        Assert.Null(Scope.Current);
    }

    [Fact]
    public void ScopesArePerThread()
    {
        using var s = Scope.Enter();
        Tensor? fromOtherThread = null;
        var t = new Thread(() => fromOtherThread = Torch.Ones([1]));
        t.Start();
        t.Join();
        Assert.Equal(0, s.Count);
        Assert.NotNull(fromOtherThread);
        Assert.Null(fromOtherThread.OwnerScope); // that thread had no scope open
        fromOtherThread.Dispose();
    }

    [Fact]
    public void FailedOpsLeakNoHandles()
    {
        var before = Live();
        using (Scope.Enter())
        {
            var a = Torch.Zeros([2, 3]);
            for (var i = 0; i < 20; i++)
                Assert.Throws<TorchException>(() => a.Matmul(a));
            // results of the wrong arity are freed before the exception
            Assert.Throws<TorchException>(() => Op.Get("aten::max.dim").Invoke(a, 1));
            Assert.Throws<TorchException>(() => Op.Get("aten::split.Tensor").Invoke(a, 1, 1));
        }
        Assert.Equal(before, Live());
    }

    [Theory]
    [InlineData(7)]   // 1 list header + 7 tensors = 8 values: fits the inline buffer exactly
    [InlineData(8)]   // 9 values: one past it
    [InlineData(20)]
    public void SplitIntoManyTensorsUsesThePendingResultsPath(int n)
    {
        var before = Live();
        using (Scope.Enter())
        {
            var x = Torch.Arange(0, n, dtype: ScalarType.Float64);
            var parts = x.Split(1);
            Assert.Equal(n, parts.Length);
            for (var k = 0; k < n; k++)
            {
                Assert.Equal(new long[] { 1 }, parts[k].Shape);
                Assert.Equal(k, parts[k].ToDouble());
            }
            var rows = Torch.Arange(0, 3 * n, dtype: ScalarType.Float64).Reshape(n, 3).Unbind();
            Assert.Equal(n, rows.Length);
            Assert.Equal(new[] { 3.0 * (n - 1), 3.0 * (n - 1) + 1, 3.0 * (n - 1) + 2 }, rows[n - 1].ToArray<double>());
            // the next call is not disturbed by the pending buffer
            Assert.Equal(new[] { 1.0, 2.0 }, Tensor.From(new[] { 0.0, 1.0 }).Add(1.0).ToArray<double>());
            // gradients flow back through all the pieces
            var leaf = Torch.Ones([n], ScalarType.Float64).RequiresGrad_();
            var pieces = leaf.Split(1);
            Tensor.Cat(pieces.Select((p, k) => p.Mul(k)).ToArray()).Sum().Backward();
            Assert.Equal(Enumerable.Range(0, n).Select(k => (double)k), leaf.Grad!.ToArray<double>());
        }
        Assert.Equal(before, Live());
    }

    [Fact]
    public void ManagedAndNativeCountsAgree()
    {
        var before = Live();
        using (Scope.Enter())
        {
            var xs = Enumerable.Range(0, 10).Select(i => Torch.Full([2], i)).ToArray();
            var after = (Tensor.LiveCount, Tensor.NativeLiveCount);
            Assert.Equal(before.Managed + 10, after.Item1);
            Assert.Equal(before.Native + 10, after.Item2);
            _ = xs[0].Split(1); // 2 more
            Assert.Equal(before.Native + 12, Tensor.NativeLiveCount);
        }
        Assert.Equal(before, Live());
    }

    [Fact]
    public void LongLivedScopeCompactsSlotsOfEarlyDisposedTensors()
    {
        using var scope = Scope.Enter();
        var keep = Torch.Ones([2]);
        for (var i = 0; i < 10_000; i++) Torch.Zeros([1]).Dispose();
        Assert.Equal(1, scope.Count);
        Assert.True(scope.SlotCount < 200, $"{scope.SlotCount} slots for 1 live tensor");
        var late = Torch.Full([1], 3);
        Assert.Equal(2, scope.Count);
        Assert.Same(keep, scope.MoveOut(keep));
        Assert.Equal(1, scope.Count);
        Assert.Equal(3.0, late.ToDouble());
        keep.Dispose();
    }

    [Fact]
    public void AbsentOpsAreCachedAsAbsent()
    {
        Assert.Null(Op.TryGet("aten::no_such_op_anywhere"));
        Assert.Null(Op.TryGet("aten::no_such_op_anywhere"));
        Assert.False(Op.Exists("aten::no_such_op_anywhere"));
    }
}
