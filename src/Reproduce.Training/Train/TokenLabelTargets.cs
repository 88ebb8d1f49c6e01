using Reproduce.Torch;
using Reproduce.Training.Config;
using Reproduce.Vision.Data.Mixing;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Tokens;

namespace Reproduce.Training.Train;

/// <summary>
/// Targets of the token labeling loss (<see cref="TokenLabelLoss"/>) for one batch: each image's annotator map from
/// the token-label source under the sample's key (<paramref name="keyOf"/>: ImageNet's relative path, e.g.
/// <c>n01440764/n01440764_10026</c>, or <c>&lt;split&gt;/&lt;index, 5 digits&gt;</c>, e.g. <c>train/00042</c>, see
/// <see cref="Key"/>, for the datasets without files), aligned to the model's token grid (<see cref="TokenLabelAligner"/>, with the run's label
/// smoothing ε), then mixed by the MixToken box (<see cref="MixTokenTargets"/>): the class target by area, the
/// token targets swapped inside the box.
/// </summary>
public sealed class TokenLabelTargets(ITokenLabelSource source, Func<int, string> keyOf, int numClasses, ClassTarget classTarget, double smoothing)
{
    /// <summary>Targets keyed <c>split/index</c> (<see cref="Key"/>), as for Fashion-MNIST and fashion-objects.</summary>
    public TokenLabelTargets(ITokenLabelSource source, string split, int numClasses, ClassTarget classTarget, double smoothing)
        : this(source, i => Key(split, i), numClasses, classTarget, smoothing)
    {
    }

    /// <summary>The store key of sample <paramref name="index"/> of <paramref name="split"/>.</summary>
    public static string Key(string split, int index) => $"{split}/{index:D5}";

    /// <summary>The stored maps of the samples <paramref name="indices"/> (full view), in the current scope.</summary>
    public IReadOnlyList<TokenLabelMap> ReadMaps(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return indices.Select(i =>
        {
            var key = keyOf(i);
            if (!source.Contains(key)) throw new KeyNotFoundException($"token_label.source has no map for '{key}' (annotate the training split first)");
            var map = source.Read(key);
            if (map.Indices.Max().ToInt64() is var top && top >= numClasses)
                throw new InvalidDataException($"token_label.source: the map of '{key}' has class index {top}, but the dataset has {numClasses} classes");
            return map;
        }).ToList();
    }

    /// <summary>(class targets [B, C], token targets [B, N, C]) for the samples <paramref name="indices"/> with labels <paramref name="labels"/>.</summary>
    public (Tensor Cls, Tensor Dense) Build(IReadOnlyList<int> indices, Tensor labels, MixTokenBox box)
    {
        ArgumentNullException.ThrowIfNull(indices);
        using var scope = Scope.Enter();
        var (cls, dense) = Build(ReadMaps(indices), labels, box);
        return (scope.MoveOut(cls), scope.MoveOut(dense));
    }

    /// <summary>
    /// (class targets [B, C], token targets [B, N, C]) from <paramref name="maps"/> (each with the view its sample's
    /// augmentation selected) and the ground-truth <paramref name="labels"/>.
    /// </summary>
    public (Tensor Cls, Tensor Dense) Build(IReadOnlyList<TokenLabelMap> maps, Tensor labels, MixTokenBox box)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(box);
        using var scope = Scope.Enter();
        var aligned = TokenLabelAligner.AlignBatch(maps, numClasses, box.GridHeight, box.GridWidth, smoothing).To(labels.Device);
        var cls = classTarget switch
        {
            ClassTarget.GroundTruth => SoftTargets.OneHot(labels, numClasses, smoothing),
            ClassTarget.Annotator => aligned.Select(1, 0),
            ClassTarget.Blend => Blend(aligned.Select(1, 0), labels, numClasses, smoothing),
            _ => throw new ConfigException($"token_label.class_target: unknown value {classTarget}", "token_label.class_target"),
        };
        var dense = aligned.Narrow(1, 1, box.NumTokens);
        if (!box.IsEmpty) (cls, dense) = (MixTokenTargets.MixClass(cls, box), MixTokenTargets.MixDense(dense, box));
        return (scope.MoveOut(cls), scope.MoveOut(dense));
    }
    /// <summary>
    /// TokenLabeling's <c>--ground-truth</c> class target, as its code computes it (docs/papers/token-labeling.md §1.7): w·annotator + (1 − w)·GT
    /// with w = 0.5 where the annotator's argmax equals the GT label, else 0.9 (its comment says the opposite intent:
    /// more GT when the annotator is wrong; the arithmetic gives the GT 0.1 then). GT is the smoothed one-hot.
    /// </summary>
    public static Tensor Blend(Tensor annotator, Tensor labels, int numClasses, double smoothing)
    {
        ArgumentNullException.ThrowIfNull(annotator);
        ArgumentNullException.ThrowIfNull(labels);
        using var scope = Scope.Enter();
        var gt = SoftTargets.OneHot(labels, numClasses, smoothing).To(annotator.DType);
        var agrees = annotator.Argmax(1).Eq(labels).To(annotator.DType).Unsqueeze(1);      // 1 where argmax = GT
        var w = agrees.Mul(-0.4).Add(0.9);                                                  // 0.5 if agrees, else 0.9
        return scope.MoveOut(annotator.Mul(w).Add(gt.Mul(w.Neg().Add(1.0))));
    }
}
