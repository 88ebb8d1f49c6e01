using Reproduce.Vision.Metrics;

namespace Reproduce.Training.Tests.Metrics;

/// <summary>Hand-made segmentation cases whose expected numbers are worked out in the comments.</summary>
public class SegmentationMetricTests
{
    private static Tensor Map(long[,] values)
    {
        var (h, w) = (values.GetLength(0), values.GetLength(1));
        var flat = new long[h * w];
        for (var r = 0; r < h; r++)
            for (var c = 0; c < w; c++) flat[r * w + c] = values[r, c];
        return Tensor.From<long>(flat, [h, w]);
    }

    private const double Tol = 1e-9;

    [Fact]
    public void ClassAbsentFromGtAndPredictionIsSkippedByNanmeanAndIgnorePixelsDoNotCount()
    {
        // C = 4. Valid pixels (label ≠ 255) give (pred, label) pairs (0,0) (1,0) (1,1) (1,1) (0,2);
        // the prediction 2 sits on the ignored pixel and is not counted.
        //   I = [1, 2, 0, 0], P = [2, 3, 0, 0], L = [2, 2, 1, 0], U = P + L − I = [3, 3, 1, 0]
        //   IoU = [1/3, 2/3, 0, NaN] → mIoU = (1/3 + 2/3 + 0) / 3 = 1/3   (25% if class 3 were averaged as 0)
        //   Acc = [1/2, 1, 0, NaN]   → mAcc = 1.5 / 3 = 1/2;   aAcc = 3 / 5
        using var scope = Scope.Enter();
        var m = new SegmentationMetric(4);
        m.Update(Map(new long[,] { { 0, 1, 1 }, { 1, 0, 2 } }), Map(new long[,] { { 0, 0, 1 }, { 1, 2, 255 } }));
        var r = m.Result();
        Assert.Equal(100.0 / 3, r.MIoU, Tol);
        Assert.Equal(50.0, r.MAcc, Tol);
        Assert.Equal(60.0, r.AAcc, Tol);
        Assert.Equal(100.0 / 3, r.PerClassIoU[0], Tol);
        Assert.Equal(200.0 / 3, r.PerClassIoU[1], Tol);
        Assert.Equal(0.0, r.PerClassIoU[2], Tol);
        Assert.True(double.IsNaN(r.PerClassIoU[3]));
        Assert.True(double.IsNaN(r.PerClassAcc[3]));
        Assert.Equal([1L, 2, 0, 0], r.AreaIntersect);
        Assert.Equal([3L, 3, 1, 0], r.AreaUnion);
        Assert.Equal([2L, 3, 0, 0], r.AreaPred);
        Assert.Equal([2L, 2, 1, 0], r.AreaLabel);

        var json = r.ToJson();
        Assert.Equal(["mIoU", "aAcc", "mAcc", "per_class_iou"], json.Select(kv => kv.Key));
        Assert.Null(json["per_class_iou"]![3]);
        Assert.Equal(60.0, json["aAcc"]!.GetValue<double>(), Tol);
    }

    [Fact]
    public void ClassPredictedButAbsentFromGtHasIouZeroAndAccNan()
    {
        // C = 3, label [0, 0], pred [0, 2]: I = [1, 0, 0], P = [1, 0, 1], L = [2, 0, 0], U = [2, 0, 1]
        //   IoU = [1/2, NaN, 0] → mIoU = 1/4;  Acc = [1/2, NaN, NaN] → mAcc = 1/2;  aAcc = 1/2
        using var scope = Scope.Enter();
        var m = new SegmentationMetric(3);
        m.Update(Map(new long[,] { { 0, 2 } }), Map(new long[,] { { 0, 0 } }));
        var r = m.Result();
        Assert.Equal(25.0, r.MIoU, Tol);
        Assert.Equal(50.0, r.MAcc, Tol);
        Assert.Equal(50.0, r.AAcc, Tol);
        Assert.Equal(0.0, r.PerClassIoU[2], Tol);
        Assert.True(double.IsNaN(r.PerClassAcc[2]));
    }

    [Fact]
    public void AreasAreAccumulatedOverTheDatasetNotAveragedPerImage()
    {
        // Image 1: label [1, 1], pred [1, 1]                  → I1 += 2, U1 += 2
        // Image 2: label [0, 0, 0, 1], pred [0, 0, 1, 0]      → I0 = 2, U0 = 3 + 3 − 2 = 4; I1 += 0, U1 += 1 + 1 − 0 = 2
        // Totals: IoU0 = 2/4, IoU1 = 2/4 → mIoU 50%. (Averaging per-image mIoU would give (1 + 0.25)/2 = 62.5%.)
        using var scope = Scope.Enter();
        var m = new SegmentationMetric(2);
        m.Update(Map(new long[,] { { 1, 1 } }), Map(new long[,] { { 1, 1 } }));
        m.Update(Map(new long[,] { { 0, 0, 1, 0 } }), Map(new long[,] { { 0, 0, 0, 1 } }));
        Assert.Equal(50.0, m.Result().MIoU, Tol);
        Assert.Equal(2, m.Updates);
    }

    [Fact]
    public void ABatchEqualsItsImagesOneByOne()
    {
        using var scope = Scope.Enter();
        using var g = new Generator(7);
        var pred = Torch.Torch.Randint(0, 6, [3, 5, 7], g);
        var label = Torch.Torch.Randint(0, 6, [3, 5, 7], g).MaskedFill(Torch.Torch.Rand([3, 5, 7], g).Lt(0.2), 255);
        var batch = new SegmentationMetric(5);
        batch.Update(pred, label);
        var single = new SegmentationMetric(5);
        for (var i = 0; i < 3; i++) single.Update(pred.Select(0, i), label.Select(0, i));
        Assert.Equal(single.Result().AreaIntersect, batch.Result().AreaIntersect);
        Assert.Equal(single.Result().AreaUnion, batch.Result().AreaUnion);
        var merged = new SegmentationMetric(5);
        merged.Merge(single);
        Assert.Equal(single.Result().MIoU, merged.Result().MIoU);
    }

    [Fact]
    public void ReduceZeroLabelMapsZeroToIgnoreAndShiftsTheRest()
    {
        // Raw label [[0,1,2],[3,255,1]] → reduced [[255,0,1],[2,255,0]]; predictions already in reduced ids.
        // Valid pairs (pred, label): (0,0) (1,1) (2,2) (1,0):
        //   I = [1,1,1], P = [1,2,1], L = [2,1,1], U = [2,2,1] → IoU [.5,.5,1] → mIoU 66.67; Acc [.5,1,1] → mAcc 83.33; aAcc 3/4
        using var scope = Scope.Enter();
        Assert.Equal([255L, 0, 1, 2, 255, 253], SegmentationMetric.ReduceZero(Tensor.From<long>([0, 1, 2, 3, 255, 254])).ToArray<long>());
        var m = new SegmentationMetric(3, reduceZeroLabel: true);
        m.Update(Map(new long[,] { { 2, 0, 1 }, { 2, 0, 1 } }), Map(new long[,] { { 0, 1, 2 }, { 3, 255, 1 } }));
        var r = m.Result();
        Assert.Equal(200.0 / 3, r.MIoU, Tol);
        Assert.Equal(250.0 / 3, r.MAcc, Tol);
        Assert.Equal(75.0, r.AAcc, Tol);
    }

    [Fact]
    public void ReducingPredictionsToo_PredictingOtherCountsAsWrong()
    {
        // Raw predictions [[3,1,2],[3,0,0]] → reduced [[2,0,1],[2,255,255]]. Valid pairs: (0,0) (1,1) (2,2) (255,0):
        // the "other" prediction adds to no class but its pixel still adds to L0.
        //   I = [1,1,1], P = [1,1,1], L = [2,1,1], U = [2,1,1] → IoU [.5,1,1] → mIoU 83.33; Acc [.5,1,1]; aAcc 3/4
        using var scope = Scope.Enter();
        var m = new SegmentationMetric(3, reduceZeroLabel: true, reducePredictions: true);
        m.Update(Map(new long[,] { { 3, 1, 2 }, { 3, 0, 0 } }), Map(new long[,] { { 0, 1, 2 }, { 3, 255, 1 } }));
        var r = m.Result();
        Assert.Equal(250.0 / 3, r.MIoU, Tol);
        Assert.Equal(250.0 / 3, r.MAcc, Tol);
        Assert.Equal(75.0, r.AAcc, Tol);
        Assert.Equal([1L, 1, 1], r.AreaPred);
    }

    [Fact]
    public void EverythingIgnoredGivesNullsInJson()
    {
        using var scope = Scope.Enter();
        var m = new SegmentationMetric(2);
        m.Update(Map(new long[,] { { 0, 1 } }), Map(new long[,] { { 255, 255 } }));
        var json = m.Result().ToJson();
        Assert.Null(json["mIoU"]);
        Assert.Null(json["aAcc"]);
        Assert.All(json["per_class_iou"]!.AsArray(), Assert.Null);
    }

    [Fact]
    public void BadInputIsRejectedWithTheShapes()
    {
        using var scope = Scope.Enter();
        var m = new SegmentationMetric(3);
        var e = Assert.Throws<ArgumentException>(() => m.Update(Torch.Torch.Zeros([2, 3], ScalarType.Int64), Torch.Torch.Zeros([3, 2], ScalarType.Int64)));
        Assert.Contains("int64[2,3]", e.Message);
        Assert.Contains("int64[3,2]", e.Message);
        e = Assert.Throws<ArgumentException>(() => m.Update(Torch.Torch.Zeros([2, 3]), Torch.Torch.Zeros([2, 3], ScalarType.Int64)));
        Assert.Contains("argmax", e.Message);
        Assert.Throws<ArgumentException>(() => new SegmentationMetric(3, reducePredictions: true));
    }
}
