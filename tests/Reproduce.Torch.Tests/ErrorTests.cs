namespace Reproduce.Torch.Tests;

/// <summary>
/// Bad input gives an exception whose message says what went wrong (op, argument, shapes), and the
/// process carries on: every failure is followed by a successful op.
/// </summary>
public class ErrorTests
{
    /// <summary>A small op that must still work after a failure.</summary>
    private static void StillWorks()
    {
        using var s = Scope.Enter();
        var a = Tensor.From(new[] { 1f, 2f, 3f, 4f }, new long[] { 2, 2 });
        Assert.Equal(new[] { 7f, 10f, 15f, 22f }, a.Matmul(a).ToArray<float>());
    }

    [Fact]
    public void MatmulShapeMismatchNamesOpAndShapes()
    {
        using var s = Scope.Enter();
        var a = Torch.Zeros([2, 3]);
        var b = Torch.Zeros([4, 5]);
        var ex = Assert.Throws<TorchException>(() => a.Matmul(b));
        Assert.Contains("aten::matmul", ex.Message);
        Assert.Contains("float32[2,3]", ex.Message);
        Assert.Contains("float32[4,5]", ex.Message);
        Assert.Contains("cannot be multiplied", ex.Message); // libtorch's own reason follows
        StillWorks();
    }

    [Fact]
    public void BroadcastMismatchNamesShapes()
    {
        using var s = Scope.Enter();
        var ex = Assert.Throws<TorchException>(() => Torch.Ones([3]).Add(Torch.Ones([4], ScalarType.Float64)));
        Assert.Contains("aten::add.Tensor(float32[3], float64[4]", ex.Message);
        Assert.Contains("must match", ex.Message);
        StillWorks();
    }

    [Fact]
    public void Conv2dWithIntegerInput()
    {
        using var s = Scope.Enter();
        var x = Torch.Zeros([1, 2, 5, 5], ScalarType.Int64);
        var w = Torch.Zeros([3, 2, 3, 3]);
        var ex = Assert.Throws<TorchException>(() => F.Conv2d(x, w));
        Assert.Contains("aten::conv2d(int64[1,2,5,5], float32[3,2,3,3]", ex.Message);
        StillWorks();
    }

    [Fact]
    public void Conv2dWithWrongChannelCount()
    {
        using var s = Scope.Enter();
        var ex = Assert.Throws<TorchException>(() => F.Conv2d(Torch.Zeros([1, 4, 5, 5]), Torch.Zeros([3, 2, 3, 3])));
        Assert.Contains("aten::conv2d(float32[1,4,5,5], float32[3,2,3,3]", ex.Message);
        Assert.Contains("channels", ex.Message);
        StillWorks();
    }

    [Fact]
    public void CrossEntropyTargetDtype()
    {
        using var s = Scope.Enter();
        var logits = Torch.Zeros([3, 4]);
        var ex = Assert.Throws<TorchException>(() => F.CrossEntropy(logits, Tensor.From(new[] { 0, 1, 2 })));
        Assert.Contains("aten::cross_entropy_loss(float32[3,4], int32[3]", ex.Message);
        Assert.Contains("Long", ex.Message);
        // float targets must be probabilities of the input's shape
        var ex2 = Assert.Throws<TorchException>(() => F.CrossEntropy(logits, Torch.Zeros([3])));
        Assert.Contains("float32[3]", ex2.Message);
        StillWorks();
    }

    [Fact]
    public void UnknownOpIsNamed()
    {
        var ex = Assert.Throws<TorchException>(() => Op.Get("aten::does_not_exist"));
        Assert.Contains("aten::does_not_exist", ex.Message);
        Assert.Contains(Torch.Version, ex.Message);
        Assert.Null(Op.TryGet("aten::add.NoSuchOverload"));
        Assert.False(Op.Exists("aten::does_not_exist"));
        var bad = Assert.Throws<ArgumentException>(() => Op.Get("add"));
        Assert.Contains("'add'", bad.Message);
        Assert.True(Op.Exists("aten::add.Tensor"));
        StillWorks();
    }

    [Fact]
    public void WrongArgumentTypeNamesTheArgument()
    {
        using var s = Scope.Enter();
        var t = Torch.Ones([2]);
        var ex = Assert.Throws<TorchException>(() => Op.Get("aten::add.Tensor").Invoke(t, "oops"));
        Assert.Contains("argument 'other'", ex.Message);
        Assert.Contains("expects Tensor but got str", ex.Message);
        var ex2 = Assert.Throws<TorchException>(() => Op.Get("aten::sum.dim_IntList").Invoke(t, 1.5));
        Assert.Contains("argument 'dim'", ex2.Message);
        StillWorks();
    }

    [Fact]
    public void TooManyArguments()
    {
        using var s = Scope.Enter();
        var t = Torch.Ones([2]);
        var ex = Assert.Throws<TorchException>(() => Op.Get("aten::add.Tensor").Invoke(t, t, 1.0, 2.0));
        Assert.Contains("takes 3 arguments but 4 were given", ex.Message);
        Assert.Contains("aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1)", ex.Message); // the schema
        StillWorks();
    }

    [Fact]
    public void MissingRequiredArgument()
    {
        using var s = Scope.Enter();
        var ex = Assert.Throws<TorchException>(() => Op.Get("aten::add.Tensor").Invoke(Torch.Ones([2])));
        Assert.Contains("missing required argument 'other'", ex.Message);
        var ex2 = Assert.Throws<TorchException>(() => Op.Get("aten::gather").Invoke(Torch.Ones([2]), Arg.Default, Torch.Zeros([2], ScalarType.Int64)));
        Assert.Contains("missing required argument 'dim'", ex2.Message);
        StillWorks();
    }

    [Fact]
    public void NoneForARequiredArgument()
    {
        using var s = Scope.Enter();
        var ex = Assert.Throws<TorchException>(() => Torch.Ones([2]).Add((Tensor?)null!));
        Assert.Contains("argument 'other' expects Tensor but got None", ex.Message);
        StillWorks();
    }

    [Fact]
    public void UseAfterDisposeNamesTheCreatingOp()
    {
        using var s = Scope.Enter();
        var a = Torch.Ones([2]);
        var t = a.Add(a);
        t.Dispose();
        Assert.True(t.IsDisposed);
        var ex = Assert.Throws<ObjectDisposedException>(() => t.Exp());
        Assert.Contains("created by aten::add.Tensor", ex.Message);
        var ex2 = Assert.Throws<ObjectDisposedException>(() => _ = t.Shape);
        Assert.Contains("aten::add.Tensor", ex2.Message);
        // as an argument of another op, too
        var ex3 = Assert.Throws<ObjectDisposedException>(() => a.Mul(t));
        Assert.Contains("aten::add.Tensor", ex3.Message);
        t.Dispose(); // idempotent
        Assert.Equal("Tensor(disposed)", t.ToString());
        StillWorks();
    }

    [Fact]
    public void BackwardOnNonScalarWithoutGradient()
    {
        using var s = Scope.Enter();
        var x = Torch.Ones([2, 3]).RequiresGrad_();
        var y = x.Mul(2.0);
        var ex = Assert.Throws<TorchException>(() => y.Backward());
        Assert.Contains("backward from float32[2,3]", ex.Message);
        Assert.Contains("only for scalar outputs", ex.Message);
        // with an explicit gradient it works
        y.Backward(Torch.Ones([2, 3]));
        Assert.Equal(Enumerable.Repeat(2f, 6), x.Grad!.ToArray<float>());
        StillWorks();
    }

    [Fact]
    public void BackwardTwiceWithoutRetainGraph()
    {
        using var s = Scope.Enter();
        var x = Torch.Ones([3]).RequiresGrad_();
        var y = x.Exp().Sum();
        y.Backward();
        var ex = Assert.Throws<TorchException>(() => y.Backward());
        Assert.Contains("second time", ex.Message);
        StillWorks();
    }

    [Fact]
    public void BackwardWithoutAnyGradTensor()
    {
        using var s = Scope.Enter();
        var ex = Assert.Throws<TorchException>(() => Torch.Ones([3]).Sum().Backward());
        Assert.Contains("does not require grad", ex.Message);
        StillWorks();
    }

    [Fact]
    public void InPlaceOnLeafThatRequiresGrad()
    {
        using var s = Scope.Enter();
        var w = Torch.Ones([3]).RequiresGrad_();
        var ex = Assert.Throws<TorchException>(() => w.Add_(1.0));
        Assert.Contains("aten::add_.Scalar(float32[3], 1)", ex.Message);
        Assert.Contains("leaf Variable that requires grad", ex.Message);
        // allowed under NoGrad (how optimisers update parameters)
        using (Torch.NoGrad()) w.Add_(1.0);
        Assert.Equal(new[] { 2f, 2f, 2f }, w.ToArray<float>());
        StillWorks();
    }

    [Fact]
    public void InPlaceChangeOfSavedTensorIsDetectedAtBackward()
    {
        using var s = Scope.Enter();
        var x = Torch.Ones([3]).RequiresGrad_();
        var y = x.Exp();
        var z = y.Mul(y).Sum();
        y.Mul_(2.0); // exp's output, saved for mul's backward, is modified
        var ex = Assert.Throws<TorchException>(() => z.Backward());
        Assert.Contains("modified by an inplace operation", ex.Message);
        StillWorks();
    }

    [Fact]
    public void DataConversionErrors()
    {
        using var s = Scope.Enter();
        var shape = Assert.Throws<ArgumentException>(() => Tensor.From(new[] { 1f, 2f, 3f }, new long[] { 2, 2 }));
        Assert.Contains("[2,2] holds 4 elements but 3 were given", shape.Message);
        var dtype = Assert.Throws<TorchException>(() => Torch.Ones([2], ScalarType.Float64).ToArray<float>());
        Assert.Contains("float64[2]", dtype.Message);
        var many = Assert.Throws<TorchException>(() => Torch.Ones([2]).ToDouble());
        Assert.Contains("has 2 elements", many.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Torch.Ones([2]).Size(3));
        StillWorks();
    }

    [Fact]
    public void WrongResultArity()
    {
        using var s = Scope.Enter();
        var x = Torch.Ones([2, 3]);
        var ex = Assert.Throws<TorchException>(() => Op.Get("aten::max.dim").Invoke(x, 1));
        Assert.Contains("aten::max.dim: expected one tensor result but got 2 values", ex.Message);
        var ex2 = Assert.Throws<TorchException>(() => Op.Get("aten::exp").InvokeList(x));
        Assert.Contains("expected a tensor list", ex2.Message);
        StillWorks();
    }
}
