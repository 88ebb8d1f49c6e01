using System.Text.Json;
using Reproduce.Vision.Metrics;

namespace Reproduce.Training.Tests.Metrics;

/// <summary>
/// Cross-checks against tests/fixtures/metrics_reference.json, made by tests/fixtures/gen_metrics.py from numpy /
/// PyTorch transcriptions of BTS's <c>eval</c> + <c>compute_errors</c> and mmseg's <c>intersect_and_union</c> +
/// <c>total_area_to_metrics</c> (random maps with invalid pixels, NaN/±∞/negative predictions, crops, ignore
/// pixels, out-of-range predictions and reduce_zero_label).
/// </summary>
public class MetricsReferenceTests
{
    private static readonly Lazy<JsonDocument> Doc = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "metrics_reference.json"))));

    private static JsonElement Case(string kind, string name) =>
        Doc.Value.RootElement.GetProperty(kind).EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static TheoryData<string> DepthCases => new(Doc.Value.RootElement.GetProperty("depth").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    public static TheoryData<string> SegmentationCases => new(Doc.Value.RootElement.GetProperty("segmentation").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    private static readonly string[] DepthKeys = ["abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "silog", "d1", "d2", "d3"];

    [Theory]
    [MemberData(nameof(DepthCases))]
    public void DepthMatchesBtsTranscription(string name)
    {
        var c = Case("depth", name);
        var (h, w) = (c.GetProperty("height").GetInt32(), c.GetProperty("width").GetInt32());
        var crop = c.GetProperty("crop").GetString() switch
        {
            "none" => DepthCrop.None,
            "garg_kitti" => DepthCrop.GargKitti,
            "eigen_kitti" => DepthCrop.EigenKitti,
            "eigen_nyu" => DepthCrop.EigenNyu,
            var x => throw new InvalidDataException($"unknown crop {x}"),
        };
        var metric = new DepthMetric(new DepthEvalOptions(c.GetProperty("min_depth").GetDouble(), c.GetProperty("max_depth").GetDouble(), crop));
        using var scope = Scope.Enter();
        foreach (var img in c.GetProperty("images").EnumerateArray())
        {
            var gt = new float[h * w];
            var pred = Enumerable.Repeat((float)img.GetProperty("pred_fill").GetDouble(), h * w).ToArray();
            foreach (var px in img.GetProperty("pixels").EnumerateArray())
            {
                var i = px[0].GetInt32() * w + px[1].GetInt32();
                gt[i] = (float)px[2].GetDouble();
                pred[i] = px[3].ValueKind switch
                {
                    JsonValueKind.Null => float.NaN,
                    JsonValueKind.String => float.PositiveInfinity,
                    _ => (float)px[3].GetDouble(),
                };
            }
            metric.Update(Tensor.From<float>(pred, [h, w]), Tensor.From<float>(gt, [h, w]));
        }
        var got = metric.Result().ToJson();
        var want = c.GetProperty("expected");
        var bts32 = c.GetProperty("expected_bts_float32");
        foreach (var key in DepthKeys)
        {
            var g = got[key]!.GetValue<double>();
            var e = want.GetProperty(key).GetDouble();
            Assert.True(Math.Abs(g - e) <= 1e-9 * Math.Max(1, Math.Abs(e)), $"{name} {key}: got {g:R}, float64 transcription {e:R}");
            var b = bts32.GetProperty(key).GetDouble();
            Assert.True(Math.Abs(g - b) <= 1e-5 * Math.Max(1, Math.Abs(b)), $"{name} {key}: got {g:R}, BTS in float32 {b:R}");
        }
        Assert.Equal(c.GetProperty("skipped").GetInt32(), metric.Result().SkippedImages);
    }

    [Theory]
    [MemberData(nameof(SegmentationCases))]
    public void SegmentationMatchesMmsegTranscription(string name)
    {
        var c = Case("segmentation", name);
        var (h, w) = (c.GetProperty("height").GetInt32(), c.GetProperty("width").GetInt32());
        var metric = new SegmentationMetric(c.GetProperty("num_classes").GetInt32(),
            reduceZeroLabel: c.GetProperty("reduce_zero_label").GetBoolean(), reducePredictions: c.GetProperty("reduce_predictions").GetBoolean());
        using var scope = Scope.Enter();
        var preds = c.GetProperty("preds").EnumerateArray().ToList();
        var labels = c.GetProperty("labels").EnumerateArray().ToList();
        for (var i = 0; i < preds.Count; i++)
        {
            // uint8 maps, as label PNGs are read (255 = ignore); the larger out-of-range prediction still fits.
            var p = preds[i].EnumerateArray().Select(x => (byte)x.GetInt64()).ToArray();
            var l = labels[i].EnumerateArray().Select(x => (byte)x.GetInt64()).ToArray();
            metric.Update(Tensor.From<byte>(p, [h, w]), Tensor.From<byte>(l, [h, w]));
        }
        var r = metric.Result();
        var want = c.GetProperty("expected");
        Assert.Equal(want.GetProperty("area_intersect").EnumerateArray().Select(x => x.GetInt64()), r.AreaIntersect);
        Assert.Equal(want.GetProperty("area_union").EnumerateArray().Select(x => x.GetInt64()), r.AreaUnion);
        Assert.Equal(want.GetProperty("area_pred").EnumerateArray().Select(x => x.GetInt64()), r.AreaPred);
        Assert.Equal(want.GetProperty("area_label").EnumerateArray().Select(x => x.GetInt64()), r.AreaLabel);
        Assert.Equal(want.GetProperty("mIoU").GetDouble(), r.MIoU, 1e-9);
        Assert.Equal(want.GetProperty("aAcc").GetDouble(), r.AAcc, 1e-9);
        Assert.Equal(want.GetProperty("mAcc").GetDouble(), r.MAcc, 1e-9);
        var perClass = want.GetProperty("per_class_iou").EnumerateArray().ToList();
        for (var k = 0; k < perClass.Count; k++)
        {
            if (perClass[k].ValueKind == JsonValueKind.Null) Assert.True(double.IsNaN(r.PerClassIoU[k]), $"{name}: class {k} should be NaN");
            else Assert.Equal(perClass[k].GetDouble(), r.PerClassIoU[k], 1e-9);
        }
    }
}
