using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// Geometric image ops on tensors shaped [C,H,W] (images) or [H,W] (label and depth maps), uint8 or
/// floating point, with torchvision's tensor semantics (torchvision/transforms/functional_tensor.py,
/// 0.14): integer images are resampled in float32 and rounded back; bicubic results are clamped to
/// [0, 255] for uint8. Every function returns a new tensor in the current scope.
/// </summary>
public static class Geometry
{
    /// <summary>Height and width of a [C,H,W] or [H,W] tensor.</summary>
    public static (int H, int W) Size(Tensor img)
    {
        var s = img.Shape;
        if (s.Length is < 2 or > 3) throw new ArgumentException($"expected an image [C,H,W] or a map [H,W], got {img.Describe()}");
        return ((int)s[^2], (int)s[^1]);
    }

    /// <summary>The region rows [top, top+height), columns [left, left+width); it must lie inside the image.</summary>
    public static Tensor Crop(Tensor img, int top, int left, int height, int width)
    {
        var (h, w) = Size(img);
        if (height <= 0 || width <= 0 || top < 0 || left < 0 || top + height > h || left + width > w)
            throw new ArgumentException($"Crop: box (top {top}, left {left}, {height}×{width}) is empty or outside the {h}×{w} input {img.Describe()}");
        return img.Narrow(-2, top, height).Narrow(-1, left, width).Contiguous();
    }

    /// <summary>Crops <paramref name="box"/> (which must belong to an image of this size).</summary>
    public static Tensor Crop(Tensor img, CropBox box)
    {
        var (h, w) = Size(img);
        if (h != box.ImageHeight || w != box.ImageWidth)
            throw new ArgumentException($"Crop: box {box} was made for a {box.ImageHeight}×{box.ImageWidth} image but the input is {img.Describe()}");
        return Crop(img, box.Top, box.Left, box.Height, box.Width);
    }

    /// <summary>Mirror along the width axis.</summary>
    public static Tensor HFlip(Tensor img) => img.Flip(-1);

    /// <summary>Mirror along the height axis.</summary>
    public static Tensor VFlip(Tensor img) => img.Flip(-2);

    /// <summary>
    /// Resizes to <paramref name="height"/>×<paramref name="width"/>. Bilinear/bicubic use half-pixel
    /// centres (align_corners=False) and, with <paramref name="antialias"/>, a widened kernel when
    /// downsampling (what PIL does, and torchvision with antialias=True); nearest is PyTorch's legacy
    /// nearest (index = floor(dst · in/out)).
    /// </summary>
    public static Tensor Resize(Tensor img, int height, int width, InterpolationMode mode = InterpolationMode.Bilinear, bool antialias = true)
    {
        if (height <= 0 || width <= 0) throw new ArgumentException($"Resize: output size {height}×{width} must be positive (input {img.Describe()})");
        using var s = Scope.Enter();
        var (x, dtype, squeeze) = ToFloat4d(img);
        var aa = antialias && mode != InterpolationMode.Nearest;
        var y = F.Interpolate(x, size: [height, width], mode: mode, alignCorners: false, antialias: aa);
        if (mode == InterpolationMode.Bicubic && dtype == ScalarType.UInt8) y = y.Clamp(0, 255);
        return s.MoveOut(FromFloat4d(y, dtype, squeeze));
    }

    /// <summary>
    /// Resizes so the shorter side becomes <paramref name="size"/> and the longer one
    /// int(size · long / short), keeping the aspect ratio (torchvision Resize with an int size).
    /// Returns the input unchanged when it already has that size.
    /// </summary>
    public static Tensor ResizeShorter(Tensor img, int size, InterpolationMode mode = InterpolationMode.Bilinear, bool antialias = true)
    {
        var (h, w) = Size(img);
        var (oh, ow) = ShorterSideSize(h, w, size);
        return oh == h && ow == w ? img.Alias() : Resize(img, oh, ow, mode, antialias);
    }

    /// <summary>The output size of <see cref="ResizeShorter"/> for an h×w input.</summary>
    public static (int H, int W) ShorterSideSize(int h, int w, int size)
    {
        if (size <= 0) throw new ArgumentException($"ResizeShorter: size must be positive, got {size}");
        return w <= h ? ((int)((long)size * h / w), size) : (size, (int)((long)size * w / h));
    }

    /// <summary>
    /// Crops the central <paramref name="height"/>×<paramref name="width"/> region: top =
    /// round((H − height)/2) with Python's round-half-to-even, as torchvision's center_crop. A crop
    /// larger than the image is first zero-padded symmetrically (the extra pixel goes right/bottom).
    /// </summary>
    public static Tensor CenterCrop(Tensor img, int height, int width, double fill = 0)
    {
        using var s = Scope.Enter();
        var (h, w) = Size(img);
        if (height > h || width > w)
        {
            int padL = width > w ? (width - w) / 2 : 0, padT = height > h ? (height - h) / 2 : 0;
            int padR = width > w ? (width - w + 1) / 2 : 0, padB = height > h ? (height - h + 1) / 2 : 0;
            img = Pad(img, padL, padT, padR, padB, fill);
            (h, w) = Size(img);
        }
        var top = (int)Math.Round((h - height) / 2.0, MidpointRounding.ToEven);
        var left = (int)Math.Round((w - width) / 2.0, MidpointRounding.ToEven);
        return s.MoveOut(Crop(img, top, left, height, width));
    }

    /// <summary>Constant padding of the last two dimensions.</summary>
    public static Tensor Pad(Tensor img, int left, int top, int right, int bottom, double value = 0)
    {
        if (left < 0 || top < 0 || right < 0 || bottom < 0)
            throw new ArgumentException($"Pad: padding (l {left}, t {top}, r {right}, b {bottom}) must be non-negative");
        return left == 0 && top == 0 && right == 0 && bottom == 0 ? img.Alias() : F.Pad(img, [left, right, top, bottom], value);
    }

    /// <summary>
    /// Reflection padding of the last two dimensions (the border pixel is not repeated), as
    /// torch.nn.functional.pad(mode="reflect").
    /// </summary>
    public static Tensor PadReflect(Tensor img, int left, int top, int right, int bottom)
    {
        using var s = Scope.Enter();
        var (x, dtype, squeeze) = ToFloat4d(img);
        var y = Op.Get("aten::reflection_pad2d").Invoke(x, new long[] { left, right, top, bottom });
        return s.MoveOut(FromFloat4d(y, dtype, squeeze));
    }

    /// <summary>
    /// The input as float [1,C,H,W] (a [H,W] map becomes [1,1,H,W]) plus what is needed to undo it.
    /// Floating inputs keep their dtype.
    /// </summary>
    internal static (Tensor X, ScalarType DType, int Squeeze) ToFloat4d(Tensor img)
    {
        var dims = img.Dim;
        if (dims is < 2 or > 4) throw new ArgumentException($"expected [H,W], [C,H,W] or [N,C,H,W], got {img.Describe()}");
        var dtype = img.DType;
        var x = dtype.IsFloatingPoint() ? img : img.To(ScalarType.Float32);
        for (var d = dims; d < 4; d++) x = x.Unsqueeze(0);
        return (x, dtype, 4 - dims);
    }

    /// <summary>Inverse of <see cref="ToFloat4d"/>: squeezes, rounds (integer types) and casts back.</summary>
    internal static Tensor FromFloat4d(Tensor y, ScalarType dtype, int squeeze)
    {
        for (var d = 0; d < squeeze; d++) y = y.Squeeze(0);
        if (dtype.IsFloatingPoint()) return y.DType == dtype ? y : y.To(dtype);
        if (dtype == ScalarType.UInt8) y = y.Clamp(0, 255);
        return y.Round().To(dtype);
    }
}
