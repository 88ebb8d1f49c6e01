using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// Geometric ops on a whole <see cref="TransformSample"/>: the image with the requested interpolation,
/// masks and depth with nearest neighbour (so no class or depth is invented), token-label maps through
/// their view (crop/flip) or their scores (affine). Intermediate tensors stay in the caller's scope
/// (the loader opens one per sample).
/// </summary>
public static class SampleGeometry
{
    /// <summary>Horizontal flip of image, mask, depth and token-label view.</summary>
    public static TransformSample HFlip(TransformSample s) => s.MapDense(Geometry.HFlip, Geometry.HFlip, Geometry.HFlip) with
    {
        TokenLabel = s.TokenLabel?.HFlip(),
        Box = s.Box,
    };

    /// <summary>Crops <paramref name="box"/> from every target; the token-label view records the crop.</summary>
    public static TransformSample Crop(TransformSample s, CropBox box) =>
        s.MapDense(x => Geometry.Crop(x, box), x => Geometry.Crop(x, box), x => Geometry.Crop(x, box)) with
        {
            TokenLabel = s.TokenLabel?.Crop(box),
            Box = box,
        };

    /// <summary>Resizes image (with <paramref name="mode"/>, antialiased), mask and depth (nearest) to height×width.</summary>
    public static TransformSample Resize(TransformSample s, int height, int width, InterpolationMode mode) =>
        s.MapDense(x => Geometry.Resize(x, height, width, mode),
            x => Geometry.Resize(x, height, width, InterpolationMode.Nearest),
            x => Geometry.Resize(x, height, width, InterpolationMode.Nearest));

    /// <summary>Crop then resize (torchvision resized_crop); the returned sample's <see cref="TransformSample.Box"/> is the crop.</summary>
    public static TransformSample ResizedCrop(TransformSample s, CropBox box, int height, int width, InterpolationMode mode) =>
        Resize(Crop(s, box), height, width, mode);

    /// <summary>
    /// Affine warp on the same canvas: image with <paramref name="mode"/> and <paramref name="fill"/>,
    /// mask nearest with the ignore index, depth nearest with 0, token-label scores as TokenLabeling does.
    /// </summary>
    public static TransformSample Warp(TransformSample s, AffineMatrix m, InterpolationMode mode, double[]? fill)
    {
        var (h, w) = (s.Height, s.Width);
        return s.MapDense(
            x => AffineWarp.Apply(x, m, mode, fill),
            x => AffineWarp.Apply(x, m, InterpolationMode.Nearest, [TransformSample.IgnoreIndex]),
            x => AffineWarp.Apply(x, m, InterpolationMode.Nearest, [0.0])) with
        {
            TokenLabel = s.TokenLabel?.Warp(m, h, w),
        };
    }

    /// <summary>Pads right and bottom to at least height×width: image with <paramref name="imageFill"/>, mask 255, depth 0.</summary>
    public static TransformSample PadTo(TransformSample s, int height, int width, double imageFill = 0)
    {
        if (s.TokenLabel is not null) throw new InvalidOperationException("SampleGeometry.PadTo: padding is not defined for token-label maps");
        int padB = Math.Max(0, height - s.Height), padR = Math.Max(0, width - s.Width);
        return s.MapDense(x => Geometry.Pad(x, 0, 0, padR, padB, imageFill),
            x => Geometry.Pad(x, 0, 0, padR, padB, TransformSample.IgnoreIndex),
            x => Geometry.Pad(x, 0, 0, padR, padB, 0));
    }
}
