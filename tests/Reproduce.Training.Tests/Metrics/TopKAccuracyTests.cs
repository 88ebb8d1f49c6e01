using Reproduce.Vision.Metrics;

namespace Reproduce.Training.Tests.Metrics;

public class TopKAccuracyTests
{
    [Fact]
    public void TopKCountsTargetsAmongTheLargestLogitsAndWeightsBatchesBySize()
    {
        // Sample 0: order 3,1,2,0, target 1 → top-1 ✗, top-2 ✓. Sample 1: argmax 0 = target ✓.
        // Sample 2: order 2,1,0,3, target 0 → ✗ at 1 and 2, ✓ at 3. k = 5 > C = 4 counts everything (as timm).
        using var scope = Scope.Enter();
        var logits = Tensor.From<float>([0.1f, 0.5f, 0.2f, 0.9f, 0.8f, 0.1f, 0.05f, 0.06f, 0.2f, 0.3f, 0.4f, 0.1f], [3, 4]);
        var target = Tensor.From<long>([1, 0, 0]);
        Assert.Equal([100.0 / 3, 200.0 / 3, 100.0], TopKAccuracy.Compute(logits, target, 1, 2, 5));

        var acc = new TopKAccuracy(1, 5);
        acc.Update(logits, target);
        acc.Update(Tensor.From<float>([0f, 1f, 0f, 0f], [1, 4]), Tensor.From<long>([1]));
        var r = acc.Result();
        Assert.Equal(4, r.Count);
        Assert.Equal(50.0, r.Top1, 1e-12);   // (1 + 1) / 4: the global fraction, not the mean of 33.3% and 100%
        Assert.Equal(100.0, r.Top5, 1e-12);
        var json = r.ToJson();
        Assert.Equal(["top1", "top5"], json.Select(kv => kv.Key));
    }

    [Fact]
    public void BadTargetsAreRejected()
    {
        using var scope = Scope.Enter();
        var logits = Torch.Torch.Zeros([2, 3]);
        var e = Assert.Throws<ArgumentException>(() => TopKAccuracy.Compute(logits, Tensor.From<long>([0, 3]), 1));
        Assert.Contains("class 3", e.Message);
        Assert.Contains("3 classes", e.Message);
        e = Assert.Throws<ArgumentException>(() => TopKAccuracy.Compute(logits, Tensor.From<long>([0, 1, 2]), 1));
        Assert.Contains("int64[3]", e.Message);
        Assert.Throws<ArgumentException>(() => new TopKAccuracy(0));
    }
}
