using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// The mmsegmentation training pipeline used for ADE20K (docs/protocols.md §2.2) and, with depth maps, for
/// the depth probes: random rescale keeping the aspect ratio (base scale × r, r ~ U(ratio range));
/// random crop, re-drawn up to 10 times while one class covers ≥ <see cref="CatMaxRatio"/> of the
/// labelled pixels; horizontal flip; photometric distortion; normalisation; padding to the crop size
/// (image 0 after normalisation, mask 255, depth 0). Masks and depth are resampled nearest.
/// </summary>
public sealed record DenseTrainTransform
{
    /// <summary>Base scale (long edge, short edge) before the random ratio (mmseg ADE20K: 2048, 512).</summary>
    public (int Long, int Short) BaseScale { get; init; } = (2048, 512);
    /// <summary>Range of the random scale ratio.</summary>
    public (double Min, double Max) RatioRange { get; init; } = (0.5, 2.0);
    /// <summary>Crop height and width (ADE20K: 512×512).</summary>
    public (int Height, int Width) CropSize { get; init; } = (512, 512);
    /// <summary>Maximum share of one class in a crop (1 disables the check; mmseg ADE20K: 0.75).</summary>
    public double CatMaxRatio { get; init; } = 0.75;
    /// <summary>Probability of a horizontal flip.</summary>
    public double FlipProb { get; init; } = 0.5;
    /// <summary>Photometric distortion, or null for none.</summary>
    public PhotoMetricDistortion? Photometric { get; init; } = new();
    /// <summary>Image resampling for the rescale (mmseg uses OpenCV bilinear, no antialiasing).</summary>
    public InterpolationMode Interpolation { get; init; } = InterpolationMode.Bilinear;
    /// <summary>Normalisation means.</summary>
    public IReadOnlyList<double> Mean { get; init; } = Normalize.ImageNetMean;
    /// <summary>Normalisation standard deviations.</summary>
    public IReadOnlyList<double> Std { get; init; } = Normalize.ImageNetStd;

    /// <summary>The augmented sample: normalised float image [3,crop], mask/depth [crop] padded as documented.</summary>
    public TransformSample Apply(TransformSample sample, Random rng)
    {
        if (sample.Image.DType != ScalarType.UInt8) throw new ArgumentException($"DenseTrainTransform: expected a uint8 image, got {sample.Image.Describe()}");
        if (sample.TokenLabel is not null) throw new ArgumentException("DenseTrainTransform: token-label maps are not supported in dense pipelines");
        sample.Validate();
        var ratio = rng.Uniform(RatioRange.Min, RatioRange.Max);
        var (nh, nw) = RescaleSize(sample.Height, sample.Width, (int)(BaseScale.Long * ratio), (int)(BaseScale.Short * ratio));
        sample = sample.MapDense(
            x => Geometry.Resize(x, nh, nw, Interpolation, antialias: false),
            x => Geometry.Resize(x, nh, nw, InterpolationMode.Nearest),
            x => Geometry.Resize(x, nh, nw, InterpolationMode.Nearest));
        sample = SampleGeometry.Crop(sample, CropBoxFor(sample, rng));
        if (rng.NextDouble() < FlipProb) sample = SampleGeometry.HFlip(sample);
        if (Photometric is not null) sample = sample with { Image = Photometric.Apply(sample.Image, rng) };
        sample = sample with { Image = Normalize.Apply(sample.Image, Mean, Std) };
        return SampleGeometry.PadTo(sample, CropSize.Height, CropSize.Width, 0);
    }

    /// <summary>
    /// mmcv imrescale: factor = min(long / max(h, w), short / min(h, w)); size = ⌊h·factor + 0.5⌋ × ⌊w·factor + 0.5⌋.
    /// </summary>
    public static (int H, int W) RescaleSize(int h, int w, int longEdge, int shortEdge)
    {
        var maxLong = Math.Max(longEdge, shortEdge);
        var maxShort = Math.Min(longEdge, shortEdge);
        var factor = Math.Min((double)maxLong / Math.Max(h, w), (double)maxShort / Math.Min(h, w));
        return (Math.Max(1, (int)(h * factor + 0.5)), Math.Max(1, (int)(w * factor + 0.5)));
    }

    private CropBox CropBoxFor(TransformSample sample, Random rng)
    {
        int h = sample.Height, w = sample.Width;
        int ch = Math.Min(CropSize.Height, h), cw = Math.Min(CropSize.Width, w);
        CropBox Draw() => new(rng.RandInt(0, h - ch), rng.RandInt(0, w - cw), ch, cw, h, w);
        var box = Draw();
        if (CatMaxRatio >= 1.0 || sample.Mask is null) return box;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (ClassesBalanced(sample.Mask, box)) break;
            box = Draw();
        }
        return box;
    }

    /// <summary>mmseg's check: more than one labelled class and none above CatMaxRatio of the labelled pixels.</summary>
    private bool ClassesBalanced(Tensor mask, CropBox box)
    {
        using var s = Scope.Enter();
        var labels = Geometry.Crop(mask, box).Long().Flatten();
        var valid = labels.MaskedSelect(labels.Ne(TransformSample.IgnoreIndex));
        if (valid.Numel == 0) return false;
        var counts = valid.Bincount();
        var nonzero = counts.MaskedSelect(counts.Gt(0.0));
        if (nonzero.Numel <= 1) return false;
        return nonzero.Max().ToDouble() / nonzero.Sum().ToDouble() < CatMaxRatio;
    }
}
