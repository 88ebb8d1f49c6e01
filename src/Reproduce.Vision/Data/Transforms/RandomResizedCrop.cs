using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// timm's RandomResizedCropAndInterpolation (timm/data/transforms.py): up to 10 attempts draw an area
/// fraction s ~ U(scale) and a log-uniform aspect ratio r (log r ~ U(log ratio)); the box is
/// w = round(√(s·A·r)), h = round(√(s·A/r)) at a uniform position if it fits. Otherwise a central crop
/// whose aspect ratio is clamped into the ratio range. The crop is resized to the output size with
/// the given interpolation, or a random choice of bilinear/bicubic when <see cref="RandomInterpolation"/>.
/// </summary>
public sealed record RandomResizedCrop(int OutputHeight, int OutputWidth)
{
    /// <summary>Range of the crop area as a fraction of the image area (timm default 0.08–1).</summary>
    public (double Min, double Max) Scale { get; init; } = (0.08, 1.0);

    /// <summary>Range of the crop aspect ratio w/h (timm default 3/4–4/3).</summary>
    public (double Min, double Max) Ratio { get; init; } = (3.0 / 4.0, 4.0 / 3.0);

    /// <summary>Resampling of the image (masks and depth always use nearest).</summary>
    public InterpolationMode Interpolation { get; init; } = InterpolationMode.Bilinear;

    /// <summary>timm's interpolation='random': bilinear or bicubic with equal probability, per sample.</summary>
    public bool RandomInterpolation { get; init; }

    /// <summary>A square crop of side <paramref name="size"/>.</summary>
    public RandomResizedCrop(int size) : this(size, size) { }

    /// <summary>Draws the crop box for an imageHeight×imageWidth image (timm get_params).</summary>
    public CropBox SampleBox(int imageHeight, int imageWidth, Random rng)
    {
        if (Scale.Min > Scale.Max || Ratio.Min > Ratio.Max || Scale.Min <= 0 || Ratio.Min <= 0)
            throw new ArgumentException($"RandomResizedCrop: scale {Scale} and ratio {Ratio} must be positive (min, max) ranges");
        double area = (double)imageHeight * imageWidth;
        double logLo = Math.Log(Ratio.Min), logHi = Math.Log(Ratio.Max);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var targetArea = rng.Uniform(Scale.Min, Scale.Max) * area;
            var aspect = Math.Exp(rng.Uniform(logLo, logHi));
            var w = (int)Math.Round(Math.Sqrt(targetArea * aspect), MidpointRounding.ToEven);
            var h = (int)Math.Round(Math.Sqrt(targetArea / aspect), MidpointRounding.ToEven);
            if (w <= imageWidth && h <= imageHeight && w > 0 && h > 0)
            {
                var top = rng.RandInt(0, imageHeight - h);
                var left = rng.RandInt(0, imageWidth - w);
                return new CropBox(top, left, h, w, imageHeight, imageWidth);
            }
        }
        // Fallback: central crop with the aspect ratio clamped into range.
        var inRatio = (double)imageWidth / imageHeight;
        int tw, th;
        if (inRatio < Ratio.Min)
        {
            tw = imageWidth;
            th = (int)Math.Round(tw / Ratio.Min, MidpointRounding.ToEven);
        }
        else if (inRatio > Ratio.Max)
        {
            th = imageHeight;
            tw = (int)Math.Round(th * Ratio.Max, MidpointRounding.ToEven);
        }
        else
        {
            tw = imageWidth;
            th = imageHeight;
        }
        return new CropBox((imageHeight - th) / 2, (imageWidth - tw) / 2, th, tw, imageHeight, imageWidth);
    }

    /// <summary>The interpolation for one sample (draws from <paramref name="rng"/> only when random).</summary>
    public InterpolationMode SampleInterpolation(Random rng) =>
        RandomInterpolation ? (rng.Next(2) == 0 ? InterpolationMode.Bilinear : InterpolationMode.Bicubic) : Interpolation;

    /// <summary>Crops and resizes the sample; the result's <see cref="TransformSample.Box"/> is the crop box.</summary>
    public TransformSample Apply(TransformSample sample, Random rng)
    {
        var box = SampleBox(sample.Height, sample.Width, rng);
        var mode = SampleInterpolation(rng);
        return SampleGeometry.ResizedCrop(sample, box, OutputHeight, OutputWidth, mode);
    }
}
