using Reproduce.Training.Pretraining;
using static Reproduce.Training.Tests.Pretraining.SslFixture;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>DINOv2's weighted k-NN against tests/fixtures/ssl/knn.json (gen_knn.py).</summary>
public sealed class KnnClassifierTests
{
    [Fact]
    public void ScoresAndAccuracyEqualTheReference()
    {
        var r = Load("knn");
        using var scope = Scope.Enter();
        var train = T(r.GetProperty("train"), 12, 6);
        var labels = Tensor.From(Longs(r.GetProperty("labels")));
        using var knn = new KnnClassifier(train, labels, r.GetProperty("classes").GetInt64(), r.GetProperty("temperature").GetDouble());
        var ks = r.GetProperty("ks").EnumerateArray().Select(x => x.GetInt32()).ToList();
        var test = T(r.GetProperty("test"), 5, 6);
        var scores = knn.Scores(test, ks);
        foreach (var k in ks)
            AssertClose(Doubles(r.GetProperty("scores").GetProperty(k.ToString(System.Globalization.CultureInfo.InvariantCulture))), scores[k], $"k={k} scores");
        var acc = knn.Accuracy(test, Tensor.From(Longs(r.GetProperty("test_labels"))), ks);
        foreach (var k in ks)
            Assert.Equal(r.GetProperty("accuracy").GetProperty(k.ToString(System.Globalization.CultureInfo.InvariantCulture)).GetDouble(), acc[k]);
    }

    [Fact]
    public void ATrainingSampleIsItsOwnNearestNeighbourAndBadInputsAreRefused()
    {
        using var scope = Scope.Enter();
        using var inputs = new Reproduce.Testing.Inputs(5);
        var train = inputs.Randn(20, 8);
        var labels = Tensor.From(Enumerable.Range(0, 20).Select(i => (long)(i % 5)).ToArray());
        using var knn = new KnnClassifier(train, labels, 5);
        Assert.Equal(1.0, knn.Accuracy(train.Mul(3), labels, [1])[1]);
        var e = Assert.Throws<ArgumentException>(() => knn.Scores(train, [21]));
        Assert.Contains("1..20", e.Message);
        e = Assert.Throws<ArgumentException>(() => knn.Scores(inputs.Randn(2, 7), [1]));
        Assert.Contains("[B, 8]", e.Message);
    }
}
