using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>What an affine warp samples outside the input.</summary>
public enum WarpPadding
{
    /// <summary>A constant fill value (per channel).</summary>
    Fill,
    /// <summary>The nearest edge pixel.</summary>
    Border,
}

/// <summary>
/// Applies an <see cref="AffineMatrix"/> to [C,H,W] images or [H,W] maps on the same canvas, through
/// grid_sample with align_corners=False. With <see cref="WarpPadding.Fill"/> the fill is blended as
/// torchvision's _apply_grid_transform does: a ones channel is warped with the image, and
/// out = img·m + fill·(1 − m) (bilinear/bicubic) or out = fill where m &lt; 0.5 (nearest).
/// </summary>
public static class AffineWarp
{
    /// <summary>
    /// Warps <paramref name="img"/>. <paramref name="fill"/> has one value or one per channel (in the
    /// image's own range, e.g. 0–255 for uint8); null means 0.
    /// </summary>
    public static Tensor Apply(Tensor img, AffineMatrix m, InterpolationMode mode = InterpolationMode.Nearest,
        double[]? fill = null, WarpPadding padding = WarpPadding.Fill)
    {
        using var s = Scope.Enter();
        var (x, dtype, squeeze) = Geometry.ToFloat4d(img);
        var shape = x.Shape;
        int c = (int)shape[1], h = (int)shape[2], w = (int)shape[3];
        if (fill is not null && fill.Length != 1 && fill.Length != c)
            throw new ArgumentException($"AffineWarp: fill has {fill.Length} values but the input {img.Describe()} has {c} channels");
        var grid = Grid(m, h, w, x.DType);
        long modeCode = mode switch
        {
            InterpolationMode.Bilinear => 0,
            InterpolationMode.Nearest => 1,
            InterpolationMode.Bicubic => 2,
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
        Tensor y;
        if (padding == WarpPadding.Border)
        {
            y = F.GridSample(x, grid, modeCode, 1, alignCorners: false);
        }
        else
        {
            var withMask = Tensor.Cat([x, Torch.Torch.Ones([shape[0], 1, h, w], x.DType)], 1);
            var warped = F.GridSample(withMask, grid, modeCode, 0, alignCorners: false);
            var mask = warped.Narrow(1, c, 1);
            y = warped.Narrow(1, 0, c);
            var fillValues = new float[c];
            for (var k = 0; k < c; k++) fillValues[k] = (float)(fill is null ? 0 : fill.Length == 1 ? fill[0] : fill[k]);
            var fillImg = Tensor.From<float>(fillValues, [1, c, 1, 1]).To(x.DType);
            y = mode == InterpolationMode.Nearest
                ? Tensor.Where(mask.Lt(0.5), fillImg.ExpandAs(y), y)
                : y.Mul(mask).Add(fillImg.Mul(mask.Neg().Add(1.0)));
        }
        if (mode == InterpolationMode.Bicubic && dtype == ScalarType.UInt8) y = y.Clamp(0, 255);
        return s.MoveOut(Geometry.FromFloat4d(y, dtype, squeeze));
    }

    /// <summary>
    /// The sampling grid [1,H,W,2] in grid_sample's normalised coordinates: output pixel centre
    /// (x + 0.5, y + 0.5) maps through <paramref name="m"/> to input position p, normalised as 2p/W − 1.
    /// </summary>
    public static Tensor Grid(AffineMatrix m, int height, int width, ScalarType dtype = ScalarType.Float32)
    {
        var g = new float[height * width * 2];
        var k = 0;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var (xi, yi) = m.Apply(x + 0.5, y + 0.5);
                g[k++] = (float)(2.0 * xi / width - 1.0);
                g[k++] = (float)(2.0 * yi / height - 1.0);
            }
        }
        var t = Tensor.From<float>(g, [1, height, width, 2]);
        return dtype == ScalarType.Float32 ? t : t.To(dtype);
    }
}
