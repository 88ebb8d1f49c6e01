using Reproduce.Training.Config;
using Reproduce.Training.Train;

namespace Reproduce.Training.Tests.Train;

public class TokenLabelLossTests
{
    // B = 1, C = 2, N = 2. Class logits (0, 0) with target (1, 0): H = ln 2.
    // Token 0: logits (0, 0), target (½, ½): H = ln 2. Token 1: logits (ln 3, 0) → softmax (¾, ¼), target (1, 0): H = ln(4/3).
    private static double Expected(double wCls, double wDense) => wCls * Math.Log(2) + wDense * (Math.Log(2) + Math.Log(4.0 / 3.0)) / 2;

    private static double Compute(TokenLabelLoss loss)
    {
        using var scope = Scope.Enter();
        var cls = Tensor.From<float>([0f, 0f], [1, 2]);
        var clsTarget = Tensor.From<float>([1f, 0f], [1, 2]);
        var tokens = Tensor.From<float>([0f, 0f, (float)Math.Log(3), 0f], [1, 2, 2]);
        var tokenTargets = Tensor.From<float>([0.5f, 0.5f, 1f, 0f], [1, 2, 2]);
        return loss.Compute(cls, clsTarget, tokens, tokenTargets).ToDouble();
    }

    [Fact]
    public void PaperWeightsMatchTheHandComputedValue()
    {
        var loss = new TokenLabelLoss();
        Assert.Equal(TokenLabelSection.PaperDenseWeight, loss.DenseWeight);
        Assert.Equal(Expected(1.0, 0.5), Compute(loss), 5);
    }

    [Fact]
    public void OfficialDenseWeightMatchesTheHandComputedValue() =>
        Assert.Equal(Expected(2.0, 1.0), Compute(new TokenLabelLoss(2.0, TokenLabelSection.OfficialDenseWeight)), 5);

    [Fact]
    public void ShapeMismatchNamesBothShapes()
    {
        using var scope = Scope.Enter();
        var cls = Tensor.From<float>([0f, 0f], [1, 2]);
        var tokens = Tensor.From<float>([0f, 0f, 0f, 0f], [1, 2, 2]);
        var wrong = Tensor.From<float>([0f, 0f, 0f], [1, 3, 1]);
        var e = Assert.Throws<ArgumentException>(() => new TokenLabelLoss().Compute(cls, cls, tokens, wrong));
        Assert.Contains("[1,2,2]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[1,3,1]", e.Message, StringComparison.Ordinal);
    }
}
