using System.Text.Json.Nodes;

namespace Reproduce.Vision.Metrics;

/// <summary>
/// Dataset-level segmentation scores from <see cref="SegmentationMetric"/>, in percent (unrounded).
/// NaN marks an undefined value: a class absent from both GT and prediction (IoU), a class absent from the GT
/// (Acc), or a dataset without a single evaluated pixel.
/// </summary>
/// <param name="MIoU">nanmean of <paramref name="PerClassIoU"/>.</param>
/// <param name="AAcc">Σ intersection / Σ label area over all classes.</param>
/// <param name="MAcc">nanmean of <paramref name="PerClassAcc"/>.</param>
/// <param name="PerClassIoU">IoU of each class (NaN when its union is empty).</param>
/// <param name="PerClassAcc">Accuracy of each class (NaN when it has no GT pixel).</param>
/// <param name="AreaIntersect">Σ area_I per class.</param>
/// <param name="AreaUnion">Σ area_U per class.</param>
/// <param name="AreaPred">Σ area_P per class.</param>
/// <param name="AreaLabel">Σ area_L per class.</param>
public sealed record SegmentationResult(
    double MIoU, double AAcc, double MAcc,
    IReadOnlyList<double> PerClassIoU, IReadOnlyList<double> PerClassAcc,
    IReadOnlyList<long> AreaIntersect, IReadOnlyList<long> AreaUnion, IReadOnlyList<long> AreaPred, IReadOnlyList<long> AreaLabel)
{
    /// <summary>
    /// The object <c>reproduce score seg</c> prints: <c>mIoU</c>, <c>aAcc</c>, <c>mAcc</c> (percent) and
    /// <c>per_class_iou</c> (percent per class; null where the IoU is NaN). NaN summary values are null too.
    /// </summary>
    public JsonObject ToJson() => new()
    {
        ["mIoU"] = MetricJson.Number(MIoU),
        ["aAcc"] = MetricJson.Number(AAcc),
        ["mAcc"] = MetricJson.Number(MAcc),
        ["per_class_iou"] = MetricJson.Numbers(PerClassIoU),
    };
}
