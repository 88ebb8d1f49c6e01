using Reproduce.Torch;

namespace Reproduce.Vision.Metrics;

/// <summary>
/// Semantic-segmentation scores with mmsegmentation's conventions (mmseg 1.x <c>IoUMetric</c>,
/// mmseg/evaluation/metrics/iou_metric.py; same numbers as 0.x <c>mean_iou</c>): per-class areas are
/// accumulated over the whole dataset and divided only at the end. Per image, with L the label map and P the
/// prediction after the optional label reduction:
/// <code>
/// valid      = { pixels with L ≠ ignore_index }
/// area_I[c]  = #{ valid : P = L = c }
/// area_P[c]  = #{ valid : P = c },   area_L[c] = #{ valid : L = c }      (c ∈ [0, C); other values are not counted)
/// area_U[c]  = area_P[c] + area_L[c] − area_I[c]
/// </code>
/// and over the dataset (Σ over images):
/// <code>
/// IoU[c] = ΣI[c] / ΣU[c]          (NaN when ΣU[c] = 0: class absent from both GT and prediction)
/// Acc[c] = ΣI[c] / ΣL[c]          (NaN when ΣL[c] = 0)
/// aAcc   = Σ_c ΣI[c] / Σ_c ΣL[c]
/// mIoU   = nanmean_c IoU[c],  mAcc = nanmean_c Acc[c]                     (NaN entries skipped)
/// </code>
/// Results are reported ×100 (percent), unrounded; mmseg rounds to two decimals only when printing.
/// A class predicted somewhere but absent from the GT has ΣU &gt; 0 and IoU 0, so it counts in mIoU.
/// Prediction values outside [0, C) on valid pixels (e.g. 255) count as wrong: they add to no class's
/// area_P but their pixels still add to area_L (torch.histc drops out-of-range values the same way).
/// <para>
/// <b>reduce_zero_label</b> (mmseg's <c>LoadAnnotations</c>, ADE20K): 0 → 255, every other value v → v − 1,
/// and 254 (what 255 becomes) → 255; i.e. r(0) = r(255) = 255, r(v) = v − 1 otherwise. It is applied to the
/// labels when <see cref="ReduceZeroLabel"/> is set, and to the predictions as well when
/// <see cref="ReducePredictions"/> is set (predictions saved in the dataset's own ids, as a benchmark
/// submission holds them). Not implemented: the official ADE20K devkit's variant (ε denominator, mean over
/// all 150 classes).
/// </para>
/// </summary>
public sealed class SegmentationMetric
{
    private readonly long[] _intersect, _pred, _label;

    /// <summary>An empty accumulator.</summary>
    /// <param name="numClasses">Number of evaluated classes C (after any reduction).</param>
    /// <param name="ignoreIndex">Label value excluded from evaluation (mmseg: 255).</param>
    /// <param name="reduceZeroLabel">Apply reduce_zero_label to the labels (ADE20K: true).</param>
    /// <param name="reducePredictions">Apply the same reduction to the predictions.</param>
    public SegmentationMetric(int numClasses, int ignoreIndex = 255, bool reduceZeroLabel = false, bool reducePredictions = false)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), $"SegmentationMetric: num_classes must be at least 1 (got {numClasses})");
        if (reducePredictions && !reduceZeroLabel)
            throw new ArgumentException("SegmentationMetric: reducePredictions applies the label reduction to predictions; it needs reduceZeroLabel");
        (NumClasses, IgnoreIndex, ReduceZeroLabel, ReducePredictions) = (numClasses, ignoreIndex, reduceZeroLabel, reducePredictions);
        _intersect = new long[numClasses];
        _pred = new long[numClasses];
        _label = new long[numClasses];
    }

    /// <summary>Number of classes C.</summary>
    public int NumClasses { get; }
    /// <summary>Ignored label value.</summary>
    public int IgnoreIndex { get; }
    /// <summary>Whether labels are reduced (0 → ignore, v → v − 1).</summary>
    public bool ReduceZeroLabel { get; }
    /// <summary>Whether predictions are reduced the same way.</summary>
    public bool ReducePredictions { get; }
    /// <summary>Images (or batches, as given to <see cref="Update"/>) accumulated.</summary>
    public long Updates { get; private set; }

    /// <summary>Dataset totals of area_I per class.</summary>
    public IReadOnlyList<long> AreaIntersect => _intersect;
    /// <summary>Dataset totals of area_P per class.</summary>
    public IReadOnlyList<long> AreaPred => _pred;
    /// <summary>Dataset totals of area_L per class.</summary>
    public IReadOnlyList<long> AreaLabel => _label;

    /// <summary>mmseg's reduce_zero_label on an integer map: r(0) = r(255) = 255, r(v) = v − 1 otherwise.</summary>
    public static Tensor ReduceZero(Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        using var scope = Scope.Enter();
        var l = labels.To(ScalarType.Int64);
        var r = Tensor.Where(l.Eq(0.0), Torch.Torch.Full([], 255, ScalarType.Int64), l.Sub(1L));
        return scope.MoveOut(r.MaskedFill(r.Eq(254.0), 255));
    }

    /// <summary>
    /// Adds one image [H, W] or a batch [B, H, W] (any integer dtype, any device; prediction and label the same
    /// shape). Batches are summed pixel-wise, exactly as adding their images one by one.
    /// </summary>
    public void Update(Tensor prediction, Tensor label)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(label);
        if (!prediction.Shape.SequenceEqual(label.Shape))
            throw new ArgumentException($"SegmentationMetric: prediction {prediction.Describe()} and label {label.Describe()} differ in shape (resize the prediction to the label first)");
        foreach (var (t, what) in new[] { (prediction, "prediction"), (label, "label") })
            if (t.DType.IsFloatingPoint() || t.DType == ScalarType.Bool)
                throw new ArgumentException($"SegmentationMetric: the {what} must hold integer class ids, got {t.Describe()} (take the argmax over classes first)");
        using var scope = Scope.Enter();
        using var noGrad = Torch.Torch.NoGrad();
        var p = prediction.To(Device.Cpu, ScalarType.Int64).Flatten();
        var l = label.To(Device.Cpu, ScalarType.Int64).Flatten();
        if (ReduceZeroLabel) l = ReduceZero(l);
        if (ReducePredictions) p = ReduceZero(p);
        var valid = l.Ne(IgnoreIndex);
        p = p.MaskedSelect(valid);
        l = l.MaskedSelect(valid);
        var inter = p.MaskedSelect(p.Eq(l));
        AddHistogram(_intersect, inter);
        AddHistogram(_pred, p);
        AddHistogram(_label, l);
        Updates++;
    }

    /// <summary>Adds the totals of another accumulator with the same settings (e.g. from another process).</summary>
    public void Merge(SegmentationMetric other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.NumClasses != NumClasses || other.IgnoreIndex != IgnoreIndex || other.ReduceZeroLabel != ReduceZeroLabel || other.ReducePredictions != ReducePredictions)
            throw new ArgumentException("SegmentationMetric.Merge: the two accumulators have different settings");
        for (var c = 0; c < NumClasses; c++)
        {
            _intersect[c] += other._intersect[c];
            _pred[c] += other._pred[c];
            _label[c] += other._label[c];
        }
        Updates += other.Updates;
    }

    /// <summary>The totals as one array (intersect, pred and label areas per class, then the update count), e.g. to sum over processes.</summary>
    public long[] ToCounts() => [.. _intersect, .. _pred, .. _label, Updates];

    /// <summary>Adds totals laid out as <see cref="ToCounts"/> (e.g. the sum of every process's).</summary>
    public void AddCounts(IReadOnlyList<long> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (counts.Count != 3 * NumClasses + 1) throw new ArgumentException($"SegmentationMetric.AddCounts: {counts.Count} totals for {NumClasses} classes (expected {3 * NumClasses + 1})");
        for (var c = 0; c < NumClasses; c++)
        {
            _intersect[c] += counts[c];
            _pred[c] += counts[NumClasses + c];
            _label[c] += counts[2 * NumClasses + c];
        }
        Updates += counts[^1];
    }

    private void AddHistogram(long[] totals, Tensor values)
    {
        if (values.Numel == 0) return;
        var inRange = values.Ge(0.0).LogicalAnd(values.Lt(NumClasses));
        var counts = values.MaskedSelect(inRange).Bincount(NumClasses).ToArray<long>();
        for (var c = 0; c < NumClasses; c++) totals[c] += counts[c];
    }

    /// <summary>The scores over everything accumulated so far (see the class summary for the formulas).</summary>
    public SegmentationResult Result()
    {
        var iou = new double[NumClasses];
        var acc = new double[NumClasses];
        long sumI = 0, sumL = 0;
        for (var c = 0; c < NumClasses; c++)
        {
            var union = _pred[c] + _label[c] - _intersect[c];
            iou[c] = union == 0 ? double.NaN : 100.0 * _intersect[c] / union;
            acc[c] = _label[c] == 0 ? double.NaN : 100.0 * _intersect[c] / _label[c];
            sumI += _intersect[c];
            sumL += _label[c];
        }
        var aAcc = sumL == 0 ? double.NaN : 100.0 * sumI / sumL;
        return new SegmentationResult(NanMean(iou), aAcc, NanMean(acc), iou, acc,
            _intersect.ToArray(), _pred.Zip(_label, _intersect).Select(x => x.First + x.Second - x.Third).ToArray(), _pred.ToArray(), _label.ToArray());
    }

    /// <summary>Mean of the non-NaN entries (NaN when there are none), as numpy's nanmean.</summary>
    public static double NanMean(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        double sum = 0;
        var n = 0;
        foreach (var v in values)
        {
            if (double.IsNaN(v)) continue;
            sum += v;
            n++;
        }
        return n == 0 ? double.NaN : sum / n;
    }
}
