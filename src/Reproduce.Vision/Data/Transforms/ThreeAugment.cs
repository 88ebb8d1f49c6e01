using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// DeiT-III's 3-Augment (facebookresearch/deit, augment.py new_data_aug_generator): RandomResizedCrop
/// (scale 0.08–1, bicubic) and horizontal flip; then exactly one of grayscale (3 channels),
/// solarization (threshold 128) or Gaussian blur (σ ~ U(0.1, 2.0)) chosen uniformly; then colour jitter
/// (0.3, 0.3, 0.3); then normalisation. With <see cref="SimpleRandomCrop"/> ("--src") the crop is
/// instead Resize(shorter side = size, bicubic) + RandomCrop(size, reflect padding 4).
/// PIL's box-approximated blur is replaced by a true Gaussian with kernel 2⌈3σ⌉ + 1. A one-channel image stays one
/// channel under the grayscale branch (the reference is RGB-only).
/// </summary>
public sealed record ThreeAugment(int ImageSize)
{
    /// <summary>Colour jitter strength (DeiT-III default 0.3; 0 disables).</summary>
    public double ColorJitter { get; init; } = 0.3;
    /// <summary>Use Resize + RandomCrop(padding 4) instead of RandomResizedCrop (DeiT-III "--src").</summary>
    public bool SimpleRandomCrop { get; init; }
    /// <summary>Normalisation means.</summary>
    public IReadOnlyList<double> Mean { get; init; } = Normalize.ImageNetMean;
    /// <summary>Normalisation standard deviations.</summary>
    public IReadOnlyList<double> Std { get; init; } = Normalize.ImageNetStd;

    /// <summary>The augmented sample with a normalised float image.</summary>
    public TransformSample Apply(TransformSample sample, Random rng)
    {
        if (sample.Image.DType != ScalarType.UInt8) throw new ArgumentException($"ThreeAugment: expected a uint8 image, got {sample.Image.Describe()}");
        if (SimpleRandomCrop)
        {
            var (oh, ow) = Geometry.ShorterSideSize(sample.Height, sample.Width, ImageSize);
            sample = SampleGeometry.Resize(sample, oh, ow, InterpolationMode.Bicubic);
            sample = sample.MapDense(x => Geometry.PadReflect(x, 4, 4, 4, 4), x => Geometry.Pad(x, 4, 4, 4, 4, TransformSample.IgnoreIndex), x => Geometry.Pad(x, 4, 4, 4, 4, 0));
            var box = new CropBox(rng.RandInt(0, sample.Height - ImageSize), rng.RandInt(0, sample.Width - ImageSize), ImageSize, ImageSize, sample.Height, sample.Width);
            sample = SampleGeometry.Crop(sample, box);
        }
        else
        {
            sample = new RandomResizedCrop(ImageSize) { Interpolation = InterpolationMode.Bicubic }.Apply(sample, rng);
        }
        if (rng.NextDouble() < 0.5) sample = SampleGeometry.HFlip(sample);
        var img = rng.Next(3) switch
        {
            0 => ColorOps.Grayscale(sample.Image, sample.Image.Size(0) == 1 ? 1 : 3), // a gray dataset keeps its one channel
            1 => PixelOps.Solarize(sample.Image, 128),
            _ => Blur(sample.Image, rng.Uniform(0.1, 2.0)),
        };
        if (ColorJitter > 0) img = Transforms.ColorJitter.Uniform(ColorJitter).Apply(img, rng);
        return sample with { Image = Normalize.Apply(img, Mean, Std) };
    }

    private static Tensor Blur(Tensor img, double sigma) => Filters.GaussianBlur(img, Filters.KernelSizeFor(sigma), sigma);
}
