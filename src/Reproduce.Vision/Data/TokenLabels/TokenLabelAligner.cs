using Reproduce.Torch;

namespace Reproduce.Vision.Data.TokenLabels;

/// <summary>
/// Turns a <see cref="TokenLabelMap"/> into training targets as TokenLabeling's mixup.py does
/// (get_featuremaps, get_label, get_labelmaps_with_coords; technique from naver-ai/relabel_imagenet):
/// <list type="number">
/// <item>scatter the top-k scores into a dense [C,h,w] map (0 for the other classes);</item>
/// <item>RoIAlign the view's box to the token grid (gridH×gridW) and, for the class token, to 1×1;</item>
/// <item>mirror the token grid when the view is flipped;</item>
/// <item>softmax over classes at every location;</item>
/// <item>label smoothing y·on + off with off = ε/C, on = 1 − ε + off (TL-loss; for a soft y the row
/// then sums to 1 + ε/C, exactly as in TokenLabeling).</item>
/// </list>
/// RoIAlign here is torchvision's roi_align(aligned=True) with the adaptive sampling ratio
/// ⌈bin size⌉ per axis, which is what TokenLabeling's call (aligned=False with boxes shifted by −0.5)
/// computes. The box is taken as (x: left…left+width, y: top…top+height) of the map; TokenLabeling
/// stores (top, left, height, width) and passes it to roi_align, whose boxes are (x1, y1, x2, y2) —
/// the two agree only if its maps are stored transposed, which we could not verify; we follow the
/// geometry (see the alignment tests).
/// </summary>
public static class TokenLabelAligner
{
    /// <summary>
    /// Targets [1 + gridH·gridW, C]: row 0 is the crop-level target for the class token, rows 1… the
    /// token targets in row-major order. Tensors stay on the map's device.
    /// </summary>
    public static Tensor Align(TokenLabelMap map, int numClasses, int gridH, int gridW, double smoothing = 0.0)
    {
        if (gridH <= 0 || gridW <= 0) throw new ArgumentException($"TokenLabelAligner: token grid {gridH}×{gridW} must be positive");
        if (smoothing is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(smoothing), $"TokenLabelAligner: smoothing {smoothing} is outside [0, 1)");
        using var s = Scope.Enter();
        var dense = map.Dense(numClasses).Unsqueeze(0);
        double h = map.GridHeight, w = map.GridWidth;
        var (x1, y1) = (map.Left * w, map.Top * h);
        var (x2, y2) = ((map.Left + map.Width) * w, (map.Top + map.Height) * h);
        var tokens = RoiAlign(dense, x1, y1, x2, y2, gridH, gridW).Squeeze(0);
        if (map.Flipped) tokens = tokens.Flip(-1);
        var cls = RoiAlign(dense, x1, y1, x2, y2, 1, 1).Squeeze(0);
        var rows = Tensor.Cat([cls.Reshape(numClasses, 1), tokens.Reshape(numClasses, (long)gridH * gridW)], 1).T();
        var probs = F.Softmax(rows, 1);
        if (smoothing > 0)
        {
            var off = smoothing / numClasses;
            var on = 1.0 - smoothing + off;
            probs = probs.Mul(on).Add(off);
        }
        return s.MoveOut(probs.Contiguous());
    }

    /// <summary>Targets for a batch: [B, 1 + gridH·gridW, C].</summary>
    public static Tensor AlignBatch(IReadOnlyList<TokenLabelMap> maps, int numClasses, int gridH, int gridW, double smoothing = 0.0)
    {
        if (maps.Count == 0) throw new ArgumentException("TokenLabelAligner.AlignBatch: no maps");
        using var s = Scope.Enter();
        var rows = maps.Select(m => Align(m, numClasses, gridH, gridW, smoothing)).ToArray();
        return s.MoveOut(Tensor.Stack(rows, 0));
    }

    /// <summary>
    /// torchvision roi_align(aligned=True, sampling_ratio=−1) of one box (x1, y1, x2, y2) in continuous
    /// pixel coordinates of <paramref name="input"/> [1,C,H,W]: each of outH×outW bins averages an
    /// sh×sw grid of bilinear samples at sub-bin centres, sh = ⌈(y2 − y1)/outH⌉, sw = ⌈(x2 − x1)/outW⌉.
    /// </summary>
    public static Tensor RoiAlign(Tensor input, double x1, double y1, double x2, double y2, int outH, int outW)
    {
        if (input.Dim != 4 || input.Size(0) != 1) throw new ArgumentException($"RoiAlign: input must be [1,C,H,W], got {input.Describe()}");
        if (!(x2 > x1 && y2 > y1)) throw new ArgumentException($"RoiAlign: box ({x1}, {y1}, {x2}, {y2}) is empty");
        using var s = Scope.Enter();
        var sh = Math.Max(1, (int)Math.Ceiling((y2 - y1) / outH - 1e-9));
        var sw = Math.Max(1, (int)Math.Ceiling((x2 - x1) / outW - 1e-9));
        var box = Tensor.From(new[] { 0f, (float)x1, (float)y1, (float)x2, (float)y2 }).View(1, 5).To(input.Device);
        var samples = F.CropResize(input, box, (long)outH * sh, (long)outW * sw);
        var pooled = sh == 1 && sw == 1 ? samples : F.AvgPool2d(samples, [sh, sw]);
        return s.MoveOut(pooled);
    }
}
