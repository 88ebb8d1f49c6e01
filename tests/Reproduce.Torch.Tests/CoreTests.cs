namespace Reproduce.Torch.Tests;

[Collection(SerialCollection.Name)] // compares the process-wide Tensor.LiveCount
public class CoreTests
{
    [Fact]
    public void AddMulBackwardThroughDispatcher()
    {
        using var scope = Scope.Enter();
        var a = Tensor.From(new[] { 1.0, 2.0, 3.0 }).RequiresGrad_();
        var b = Tensor.From(new[] { 4.0, 5.0, 6.0 });
        var y = (a * b + a).Sum();
        Assert.Equal(1 * 4 + 2 * 5 + 3 * 6 + 6, y.ToDouble());
        y.Backward();
        Assert.Equal(new[] { 5.0, 6.0, 7.0 }, a.Grad!.ToArray<double>());
    }

    [Fact]
    public void ScopeFreesTemporaries()
    {
        var before = Tensor.LiveCount;
        using (Scope.Enter())
        {
            var x = Torch.Randn([4, 4]);
            for (var i = 0; i < 10; i++) x = x.Matmul(x).Tanh();
            Assert.True(Tensor.LiveCount > before);
        }
        Assert.Equal(before, Tensor.LiveCount);
    }
}
