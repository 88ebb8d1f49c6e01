using Reproduce.Torch;
using Reproduce.Training.Config;
using Reproduce.Training.Train;
using Reproduce.Vision.Data.Mixing;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Tokens;

namespace Reproduce.Training.Tests.Train;

/// <summary>token_label.class_target: ground_truth, annotator and TokenLabeling's --ground-truth blend.</summary>
[Collection(nameof(SerialTests))]
public sealed class ClassTargetTests
{
    [Fact]
    public void BlendWeighsTheAnnotatorHalfWhenItAgreesAndNineTenthsWhenNot()
    {
        using var scope = Scope.Enter();
        var annotator = Tensor.From<float>([0.7f, 0.2f, 0.1f, 0.2f, 0.3f, 0.5f], [2, 3]);
        var labels = Tensor.From<long>([0L, 0L], [2]);
        // row 0: argmax 0 = GT → 0.5·[.7 .2 .1] + 0.5·[1 0 0]; row 1: argmax 2 ≠ GT → 0.9·[.2 .3 .5] + 0.1·[1 0 0]
        Assert.Equal([0.85f, 0.1f, 0.05f, 0.28f, 0.27f, 0.45f], TokenLabelTargets.Blend(annotator, labels, 3, 0).ToArray<float>(), new FloatTol(1e-6f));
        // with smoothing 0.3 the GT is [0.8, 0.1, 0.1]
        Assert.Equal([0.75f, 0.15f, 0.1f, 0.26f, 0.28f, 0.46f], TokenLabelTargets.Blend(annotator, labels, 3, 0.3).ToArray<float>(), new FloatTol(1e-6f));
    }

    [Fact]
    public void EachClassTargetReachesTheClassTokensTarget()
    {
        using var dir = new TempDir();
        using var store = TokenLabelStore.Open(TokenLabelTrainingTests.WriteStore(dir.Path, count: 4));
        using var scope = Scope.Enter();
        var labels = Tensor.From<long>([0L, 5L, 2L, 9L], [4]);   // maps' top class is i % 10: agrees for 0 and 2
        var box = MixTokenBox.Empty(7, 7);
        int[] idx = [0, 1, 2, 3];
        Tensor Cls(ClassTarget t) => new TokenLabelTargets(store, "train", 10, t, 0.1).Build(idx, labels, box).Cls;
        var gt = Cls(ClassTarget.GroundTruth);
        var ann = Cls(ClassTarget.Annotator);
        var blend = Cls(ClassTarget.Blend);
        Assert.True(gt.Equal(SoftTargets.OneHot(labels, 10, 0.1)));
        var aligned = TokenLabelAligner.AlignBatch(new TokenLabelTargets(store, "train", 10, ClassTarget.Annotator, 0.1).ReadMaps(idx), 10, 7, 7, 0.1);
        Assert.True(ann.Equal(aligned.Select(1, 0)));
        Assert.True(blend.AllClose(TokenLabelTargets.Blend(ann, labels, 10, 0.1)));
        Assert.False(blend.AllClose(ann) || blend.AllClose(gt));
    }

    [Fact]
    public void TheTrainerUsesEachValue()
    {
        using var dir = new TempDir();
        var storePath = TokenLabelTrainingTests.WriteStore(dir.Path);
        var losses = new[] { "ground_truth", "annotator", "blend" }.Select(t => Trainer.Run(
            TokenLabelTrainingTests.Config(storePath, "optim.steps=1", $"token_label.class_target={t}"), dir[t], new TrainOptions { LogEvery = 1 })
            .Final!["train_loss"]!.GetValue<double>()).ToList();
        Assert.Equal(3, losses.Distinct().Count());
    }

    private sealed class FloatTol(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tol;
        public int GetHashCode(float v) => 0;
    }
}
