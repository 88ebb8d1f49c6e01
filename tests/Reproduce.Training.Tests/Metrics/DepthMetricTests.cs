using Reproduce.Vision.Metrics;

namespace Reproduce.Training.Tests.Metrics;

/// <summary>Hand-made depth cases whose expected numbers are worked out in the comments (BTS conventions).</summary>
public class DepthMetricTests
{
    private const double Tol = 1e-12;

    private static Tensor Map(float[,] v)
    {
        var (h, w) = (v.GetLength(0), v.GetLength(1));
        var flat = new float[h * w];
        for (var r = 0; r < h; r++)
            for (var c = 0; c < w; c++) flat[r * w + c] = v[r, c];
        return Tensor.From<float>(flat, [h, w]);
    }

    [Fact]
    public void FormulasOnOneImageWithAnInvalidPixel()
    {
        // gt [[1,2],[0,5]], pred [[2,2],[9,3]], range (1e-3, 10): gt 0 is invalid, so pairs (g,p) = (1,2) (2,2) (5,3).
        using var scope = Scope.Enter();
        var m = new DepthMetric(new DepthEvalOptions(1e-3, 10));
        m.Update(Map(new float[,] { { 2, 2 }, { 9, 3 } }), Map(new float[,] { { 1, 2 }, { 0, 5 } }));
        var r = m.Result();
        double ln2 = Math.Log(2), ln53 = Math.Log(5.0 / 3);
        Assert.Equal((1 + 0 + 0.4) / 3, r.AbsRel, Tol);                          // |g−p|/g = 1, 0, 2/5
        Assert.Equal((1 + 0 + 0.8) / 3, r.SqRel, Tol);                           // (g−p)²/g = 1, 0, 4/5
        Assert.Equal(Math.Sqrt(5.0 / 3), r.Rmse, Tol);                           // (g−p)² = 1, 0, 4
        Assert.Equal(Math.Sqrt((ln2 * ln2 + ln53 * ln53) / 3), r.RmseLog, Tol);
        Assert.Equal((Math.Log10(2) + Math.Log10(5.0 / 3)) / 3, r.Log10, Tol);
        double[] e = [ln2, 0, -ln53];                                            // e = ln p − ln g
        var mean = e.Average();
        Assert.Equal(100 * Math.Sqrt(e.Select(x => x * x).Average() - mean * mean), r.Silog, 1e-10);
        Assert.Equal(1.0 / 3, r.D1, Tol);                                        // ratios 2, 1, 5/3
        Assert.Equal(1.0 / 3, r.D2, Tol);                                        // 5/3 ≥ 1.5625
        Assert.Equal(2.0 / 3, r.D3, Tol);                                        // 5/3 < 1.953125 ≤ 2
        Assert.Equal(1, r.Images);

        var json = r.ToJson();
        Assert.Equal(["abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "silog", "d1", "d2", "d3"], json.Select(kv => kv.Key));
    }

    [Fact]
    public void RangeMaskClampInfNanAndPerImageAveraging()
    {
        // Image A, range (1e-3, 10): gt 12 (> max), 10 (not < max), 5e-4 (< min) are invalid; gt 5 with pred +∞ → clamped to 10.
        //   abs_rel 1, sq_rel 25/5 = 5, rmse 5, rmse_log ln 2, log10 log10 2, silog 0 (one pixel), δ all 0 (ratio 2).
        // Image B: gt 2 with pred NaN → min depth 1e-3; gt 4 with pred −3 → 1e-3. Ratios 2000 and 4000.
        // Image C: no valid pixel → skipped, not averaged.
        using var scope = Scope.Enter();
        var m = new DepthMetric(new DepthEvalOptions(1e-3, 10));
        m.Update(Map(new float[,] { { 1, 1, 1, float.PositiveInfinity } }), Map(new float[,] { { 12, 10, 5e-4f, 5 } }));
        var a = m.Result();
        Assert.Equal(1.0, a.AbsRel, Tol);
        Assert.Equal(5.0, a.SqRel, Tol);
        Assert.Equal(5.0, a.Rmse, Tol);
        Assert.Equal(Math.Log(2), a.RmseLog, Tol);
        Assert.Equal(0.0, a.Silog, Tol);
        Assert.Equal(0.0, a.D3, Tol);

        m.Update(Map(new float[,] { { float.NaN, -3 } }), Map(new float[,] { { 2, 4 } }));
        m.Update(Map(new float[,] { { 1, 1 } }), Map(new float[,] { { 0, 20 } }));
        var r = m.Result();
        Assert.Equal(2, r.Images);
        Assert.Equal(1, r.SkippedImages);
        const double p = 1e-3;
        var absRelB = ((2 - p) / 2 + (4 - p) / 4) / 2;
        Assert.Equal((1.0 + absRelB) / 2, r.AbsRel, Tol);
        var rmseB = Math.Sqrt(((2 - p) * (2 - p) + (4 - p) * (4 - p)) / 2);
        Assert.Equal((5.0 + rmseB) / 2, r.Rmse, 1e-12);
        var log10B = (Math.Log10(2 / p) + Math.Log10(4 / p)) / 2;
        Assert.Equal((Math.Log10(2) + log10B) / 2, r.Log10, 1e-12);
    }

    [Fact]
    public void ImagesAreAveragedNotPixelsPooled()
    {
        // Image 1: one pixel with abs_rel 1. Image 2: three exact pixels (abs_rel 0). Per image: (1 + 0)/2; pooled would be 1/4.
        using var scope = Scope.Enter();
        var m = new DepthMetric(new DepthEvalOptions());
        m.Update(Map(new float[,] { { 2 } }), Map(new float[,] { { 1 } }));
        m.Update(Map(new float[,] { { 1, 2, 3 } }), Map(new float[,] { { 1, 2, 3 } }));
        Assert.Equal(0.5, m.Result().AbsRel, Tol);
        var batch = new DepthMetric(new DepthEvalOptions());
        batch.Update(Map(new float[,] { { 2, 9 } }).Unsqueeze(0).Repeat(2, 1, 1), Map(new float[,] { { 1, 0 } }).Unsqueeze(0).Repeat(2, 1, 1));
        Assert.Equal(2, batch.Result().Images);
        Assert.Equal(1.0, batch.Result().AbsRel, Tol);
    }

    [Fact]
    public void GargCropKeepsRowsAndColumnsFromTheBtsFractions()
    {
        // 10×100 GT of 2 m everywhere. Garg window: rows [int(4.0810811), int(9.9189189)) = [4, 9),
        // cols [int(3.594771), int(96.405229)) = [3, 96): 5 × 93 = 465 pixels. Inside, the prediction is exact except
        // at the two corners (4,3) and (8,95) (pred 3: abs_rel ½ each); just outside, predictions are wild.
        using var scope = Scope.Enter();
        var gt = Torch.Torch.Full([10, 100], 2);
        var pred = Torch.Torch.Full([10, 100], 2);
        foreach (var (r, c) in new[] { (3, 50), (9, 50), (5, 2), (5, 96), (0, 0), (9, 99) }) pred.Select(0, r).Select(0, c).Fill_(100);
        pred.Select(0, 4).Select(0, 3).Fill_(3);
        pred.Select(0, 8).Select(0, 95).Fill_(3);
        var opts = DepthEvalOptions.Kitti;
        Assert.Equal((4, 9, 3, 96), opts.CropWindow(10, 100));
        var e = DepthMetric.ImageErrors(pred, gt, opts)!.Value;
        Assert.Equal(465, e.ValidPixels);
        Assert.Equal(1.0 / 465, e.AbsRel, Tol);
        Assert.Equal(463.0 / 465, e.D1, Tol);
        Assert.True(DepthMetric.ImageErrors(pred, gt, new DepthEvalOptions(1e-3, 80))!.Value.AbsRel > 0.1, "without the crop the wild pixels count");
        Assert.Equal((int)(0.3324324 * 375), new DepthEvalOptions(Crop: DepthCrop.EigenKitti).CropWindow(375, 1242)!.Value.Top);
    }

    [Fact]
    public void KittiPresetCapsAt80Metres()
    {
        // gt 85 is beyond the 80 m cap (invalid); gt 79 with pred 200 → pred clamped to 80: abs_rel 1/79.
        using var scope = Scope.Enter();
        var e = DepthMetric.ImageErrors(Map(new float[,] { { 50, 200 } }), Map(new float[,] { { 85, 79 } }), new DepthEvalOptions(1e-3, 80))!.Value;
        Assert.Equal(1, e.ValidPixels);
        Assert.Equal(1.0 / 79, e.AbsRel, Tol);
        Assert.Equal(80.0, DepthEvalOptions.Kitti.MaxDepth);
        Assert.Equal(DepthCrop.GargKitti, DepthEvalOptions.Kitti.Crop);
    }

    [Fact]
    public void NyuEigenCropIsRows45To470AndColumns41To600()
    {
        // 480×640 GT of 1 m; pred 1 inside [45:471, 41:601] except the window's corners (45,41) and (470,600) at 1.5,
        // and 5 outside it. Window: 426 × 560 pixels; abs_rel = (0.5 + 0.5) / (426·560).
        using var scope = Scope.Enter();
        var gt = Torch.Torch.Ones([480, 640]);
        var pred = Torch.Torch.Full([480, 640], 5);
        pred.Narrow(0, 45, 426).Narrow(1, 41, 560).Fill_(1);
        pred.Select(0, 45).Select(0, 41).Fill_(1.5);
        pred.Select(0, 470).Select(0, 600).Fill_(1.5);
        var e = DepthMetric.ImageErrors(pred, gt, DepthEvalOptions.Nyu)!.Value;
        Assert.Equal(426 * 560, e.ValidPixels);
        Assert.Equal(1.0 / (426 * 560), e.AbsRel, Tol);
        var ex = Assert.Throws<ArgumentException>(() => DepthMetric.ImageErrors(Torch.Torch.Ones([240, 320]), Torch.Torch.Ones([240, 320]), DepthEvalOptions.Nyu));
        Assert.Contains("480×640", ex.Message);
        Assert.Contains("240×320", ex.Message);
    }

    [Fact]
    public void KbCropPasteMatchesBts()
    {
        using var scope = Scope.Enter();
        var canvas = DepthEvalOptions.PasteKbCrop(Torch.Torch.Ones([352, 1216]), 375, 1242);
        Assert.Equal(352 * 1216, canvas.Sum().ToDouble());
        Assert.Equal(1.0, canvas.Select(0, 23).Select(0, 13).ToDouble());   // top = 375 − 352, left = (1242 − 1216) / 2
        Assert.Equal(0.0, canvas.Select(0, 22).Select(0, 13).ToDouble());
        Assert.Equal(0.0, canvas.Select(0, 23).Select(0, 12).ToDouble());
        Assert.Equal(1.0, canvas.Select(0, 374).Select(0, 1228).ToDouble());
        Assert.Equal(0.0, canvas.Select(0, 374).Select(0, 1229).ToDouble());
    }

    [Fact]
    public void BadInputNamesTheShapes()
    {
        using var scope = Scope.Enter();
        var m = new DepthMetric(DepthEvalOptions.Kitti);
        var e = Assert.Throws<ArgumentException>(() => m.Update(Torch.Torch.Ones([4, 5]), Torch.Torch.Ones([5, 4])));
        Assert.Contains("float32[4,5]", e.Message);
        Assert.Contains("float32[5,4]", e.Message);
        Assert.Throws<ArgumentException>(() => new DepthMetric(new DepthEvalOptions(5, 1)));
        Assert.True(double.IsNaN(m.Result().AbsRel));
        Assert.Null(m.Result().ToJson()["rmse"]);
    }
}
