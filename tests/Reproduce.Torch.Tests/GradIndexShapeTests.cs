namespace Reproduce.Torch.Tests;

/// <summary>Gradient checks of indexing, scatter/gather, views and joins (float64).</summary>
public class GradIndexShapeTests
{
    private static Tensor L(params long[] v) => Tensor.From(v);

    [Fact]
    public void AdvancedIndexWithTensors()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(101);
        // repeated indices: the gradient must accumulate
        GradCheck.Check(x => x[0].Index(L(2, 0, 2, 1)), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Index(null, L(3, 3, 0)), r.Randn(2, 4));
        GradCheck.Check(x => x[0].Index(L(0, 1, 1), L(2, 0, 2)), r.Randn(2, 3, 2));
        var mask = Tensor.From(new[] { true, false, true, true, false, true }, new long[] { 2, 3 });
        GradCheck.Check(x => x[0].Index(mask), r.Randn(2, 3, 2));
        GradCheck.Check(x => x[0].MaskedSelect(mask), r.Randn(2, 3));
    }

    [Fact]
    public void IndexSelectAndGather()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(102);
        GradCheck.Check(x => x[0].IndexSelect(1, L(3, 0, 3)), r.Randn(2, 4, 2));
        GradCheck.Check(x => x[0].IndexSelect(0, L(1, 1, 0, 2)), r.Randn(3, 2));
        var idx = Tensor.From(new long[] { 0, 2, 2, 1, 0, 0 }, new long[] { 2, 3 });
        GradCheck.Check(x => x[0].Gather(1, idx), r.Randn(2, 4));
        GradCheck.Check(x => x[0].Gather(0, idx.Clamp(0, 1).Long()), r.Randn(2, 3));
    }

    [Fact]
    public void ScatterAndScatterAdd()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(103);
        // scatter: distinct indices per row (duplicates would make the winner unspecified)
        var uniq = Tensor.From(new long[] { 3, 0, 1, 2, 4, 0 }, new long[] { 2, 3 });
        GradCheck.Check(x => x[0].Scatter(1, uniq, x[1]), r.Randn(2, 5), r.Randn(2, 3));
        GradCheck.Check(x => x[0].Scatter(1, uniq, 0.5), r.Randn(2, 5));
        // scatter_add: duplicates accumulate
        var dup = Tensor.From(new long[] { 1, 1, 0, 2, 2, 2 }, new long[] { 2, 3 });
        GradCheck.Check(x => x[0].ScatterAdd(1, dup, x[1]), r.Randn(2, 4), r.Randn(2, 3));
        GradCheck.Check(x => x[0].ScatterAdd(0, dup.Clamp(0, 1).Long(), x[1]), r.Randn(2, 3), r.Randn(2, 3));
    }

    [Fact]
    public void IndexPutAccumulateAndAssign()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(104);
        // in place on a clone (f must not change its arguments)
        GradCheck.Check(x => x[0].Clone().IndexPut_([L(0, 2, 0, 1)], x[1], accumulate: true), r.Randn(3, 2), r.Randn(4, 2));
        GradCheck.Check(x => x[0].Clone().IndexPut_([L(1, 0), L(2, 2)], x[1], accumulate: true), r.Randn(2, 3), r.Randn(2));
        GradCheck.Check(x => x[0].Clone().IndexPut_([L(2, 0)], x[1]), r.Randn(3, 2), r.Randn(2, 2));
    }

    [Fact]
    public void SliceSelectNarrowMaskedFill()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(105);
        GradCheck.Check(x => x[0].Slice(1, 1, 5, 2), r.Randn(2, 6));
        GradCheck.Check(x => x[0].Slice(0, null, -1), r.Randn(4, 2));
        GradCheck.Check(x => x[0].Select(1, 2), r.Randn(2, 3, 2));
        GradCheck.Check(x => x[0].Select(0, -1), r.Randn(3, 2));
        GradCheck.Check(x => x[0].Narrow(2, 1, 2), r.Randn(2, 2, 4));
        var mask = Tensor.From(new[] { true, false, false, true, true, false }, new long[] { 2, 3 });
        GradCheck.Check(x => x[0].MaskedFill(mask, -2.0), r.Randn(2, 3));
        GradCheck.Check(x => x[0].MaskedFill(mask.Select(0, 0), 1.0), r.Randn(4, 3)); // broadcast mask
    }

    [Fact]
    public void CatStack()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(106);
        GradCheck.Check(x => Tensor.Cat([x[0], x[1], x[0]], 1), r.Randn(2, 3), r.Randn(2, 1));
        GradCheck.Check(x => Tensor.Stack([x[0], x[1]], 0), r.Randn(2, 3), r.Randn(2, 3));
        GradCheck.Check(x => Tensor.Stack([x[0], x[1]], -1), r.Randn(3), r.Randn(3));
    }

    [Fact]
    public void ReshapeViewPermuteTranspose()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(107);
        GradCheck.Check(x => x[0].Reshape(3, -1).Mul(x[1]), r.Randn(2, 3, 2), r.Randn(4));
        GradCheck.Check(x => x[0].View(6, 2).Sin(), r.Randn(2, 3, 2));
        GradCheck.Check(x => x[0].Permute(2, 0, 1).Contiguous().View(-1).Mul(x[1]), r.Randn(2, 3, 2), r.Randn(12));
        GradCheck.Check(x => x[0].Transpose(0, 2).Mul(x[1]), r.Randn(2, 3, 4), r.Randn(4, 3, 2));
        GradCheck.Check(x => x[0].T().Matmul(x[1]), r.Randn(3, 2), r.Randn(3, 2));
        GradCheck.Check(x => x[0].Unsqueeze(1).Squeeze(1).Flatten().Squeeze(), r.Randn(1, 3, 2));
    }

    [Fact]
    public void ExpandRepeatFlipRoll()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(108);
        GradCheck.Check(x => x[0].Expand(3, -1, 4).Mul(x[1]), r.Randn(1, 2, 1), r.Randn(3, 2, 4));
        GradCheck.Check(x => x[0].ExpandAs(x[1]).Mul(x[1]), r.Randn(3, 1), r.Randn(3, 4));
        GradCheck.Check(x => x[0].Repeat(2, 1, 3), r.Randn(2, 2));
        GradCheck.Check(x => x[0].Flip(0, 2), r.Randn(2, 3, 2));
        GradCheck.Check(x => x[0].Roll([1, -2], [0, 1]).Mul(x[1]), r.Randn(3, 4), r.Randn(3, 4));
    }

    [Fact]
    public void SplitChunkUnbind()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(109);
        // each piece gets its own weight so a misrouted gradient shows
        GradCheck.Check(x =>
        {
            var p = x[0].Split(2, 1);
            return Tensor.Cat([p[2].Mul(3.0), p[0].Exp(), p[1]], 1);
        }, r.Randn(2, 5));
        GradCheck.Check(x =>
        {
            var p = x[0].Split([1L, 3L], 0);
            return p[1].Sum(0).Mul(p[0].Squeeze(0));
        }, r.Randn(4, 3));
        GradCheck.Check(x =>
        {
            var c = x[0].Chunk(3, 0);
            return c[0].Mul(c[1]).Sub(c[2].Square());
        }, r.Randn(6, 2));
        GradCheck.Check(x =>
        {
            var u = x[0].Unbind(1);
            return u[0].Mul(u[2]).Add(u[1].Tanh());
        }, r.Randn(4, 3));
    }

    [Fact]
    public void WhereBothBranches()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(110);
        var cond = Tensor.From(new[] { true, false, true, false, false, true }, new long[] { 2, 3 });
        GradCheck.Check(x => Tensor.Where(cond, x[0], x[1]), r.Randn(2, 3), r.Randn(2, 3));
        GradCheck.Check(x => Tensor.Where(cond, x[0], x[1]), r.Randn(1, 3), r.Randn(2, 1)); // broadcasting
    }
}
