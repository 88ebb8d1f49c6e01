using Reproduce.Training.Config;
using Reproduce.Training.Train;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>DeiT III's binarised BCE (<c>targets.gt(0.0)</c> after mixing) against the closed form.</summary>
public sealed class BinarizedBceTests
{
    [Fact]
    public void EqualsBceOnTheIndicatorOfPositiveTargets()
    {
        using var scope = Scope.Enter();
        // two mixed rows (Mixup λ = 0.7 of classes 0 and 2; CutMix 0.25 of class 3 into class 1) and one plain one-hot row
        var targets = new double[] { 0.7, 0, 0.3, 0, 0, 0.75, 0, 0.25, 0, 0, 1, 0 };
        var logits = new double[] { 1.5, -0.5, 0.25, 2.0, -1.0, 0.5, 0.75, -2.0, 0.1, 0.2, 3.0, -0.3 };
        var expected = 0.0;
        for (var i = 0; i < targets.Length; i++)
        {
            var y = targets[i] > 0 ? 1.0 : 0.0;
            var s = 1 / (1 + Math.Exp(-logits[i]));
            expected -= y * Math.Log(s) + (1 - y) * Math.Log(1 - s);
        }
        expected /= targets.Length;
        var t = Tensor.From(targets, [3, 4]);
        var x = Tensor.From(logits, [3, 4]);
        var actual = SoftTargetLoss.Compute(LossKind.BinaryCrossEntropyBinarized, x, t).ToDouble();
        Assert.True(Math.Abs(expected - actual) < 1e-12, $"binarised BCE {actual:R}, closed form {expected:R}");
        Assert.Equal(new double[] { 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0 }, SoftTargetLoss.Binarize(t).ToArray<double>());
        // plain BCE keeps the soft targets, so the two differ on mixed rows
        Assert.NotEqual(actual, SoftTargetLoss.Compute(LossKind.BinaryCrossEntropy, x, t).ToDouble());
    }

    [Fact]
    public void TheConfigNameIsBceBinarizedAndTheExistingNamesKeepTheirMeaning()
    {
        var config = ConfigLoader.Load<RunConfig>([], ["optim.loss=bce_binarized"]);
        Assert.Equal(LossKind.BinaryCrossEntropyBinarized, config.Optim.Loss);
        Assert.Equal(LossKind.BinaryCrossEntropy, ConfigLoader.Load<RunConfig>([], ["optim.loss=bce"]).Optim.Loss);
    }
}
