using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// timm's transforms_imagenet_eval in center mode (timm/data/transforms_factory.py; docs/protocols.md §1.3):
/// resize the shorter side to ⌊size / crop_pct⌋ keeping the aspect ratio, center-crop size×size,
/// ToTensor, Normalize. Examples: crop_pct 0.875 @224 → 256 → 224; 0.9 → 248 → 224; 1.0 → 224.
/// Interpolation and crop_pct come from the model's config (LV-ViT-T/S: bicubic 0.9; M/L: bicubic 1.0;
/// timm DeiT: bicubic 0.9; the DeiT repository: bicubic 0.875).
/// </summary>
public sealed record EvalTransform(int Size)
{
    /// <summary>Fraction of the resized image kept by the center crop (timm default 0.875).</summary>
    public double CropPct { get; init; } = 0.875;

    /// <summary>Resize interpolation (timm default bilinear; the papers' models use bicubic).</summary>
    public InterpolationMode Interpolation { get; init; } = InterpolationMode.Bilinear;

    /// <summary>Channel means for normalisation (ImageNet).</summary>
    public IReadOnlyList<double> Mean { get; init; } = Normalize.ImageNetMean;

    /// <summary>Channel standard deviations for normalisation (ImageNet).</summary>
    public IReadOnlyList<double> Std { get; init; } = Normalize.ImageNetStd;

    /// <summary>The shorter side before cropping: ⌊size / crop_pct⌋.</summary>
    public int ScaleSize => (int)Math.Floor(Size / CropPct);

    /// <summary>The normalised float [C,size,size] image (uint8 or 0–1 float input).</summary>
    public Tensor Apply(Tensor image)
    {
        if (!(CropPct > 0 && CropPct <= 1)) throw new ArgumentOutOfRangeException(nameof(CropPct), $"EvalTransform: crop_pct must be in (0, 1], got {CropPct}");
        using var s = Scope.Enter();
        var resized = Geometry.ResizeShorter(image, ScaleSize, Interpolation);
        var cropped = Geometry.CenterCrop(resized, Size, Size);
        return s.MoveOut(Normalize.Apply(cropped, Mean, Std));
    }

    /// <summary>The whole sample: image as <see cref="Apply(Tensor)"/>, mask and depth resized nearest and cropped alike.</summary>
    public TransformSample Apply(TransformSample sample)
    {
        var (oh, ow) = Geometry.ShorterSideSize(sample.Height, sample.Width, ScaleSize);
        var resized = (oh, ow) == (sample.Height, sample.Width) ? sample : SampleGeometry.Resize(sample, oh, ow, Interpolation);
        var top = (int)Math.Round((oh - Size) / 2.0, MidpointRounding.ToEven);
        var left = (int)Math.Round((ow - Size) / 2.0, MidpointRounding.ToEven);
        var cropped = SampleGeometry.Crop(resized, new CropBox(top, left, Size, Size, oh, ow));
        return cropped with { Image = Normalize.Apply(cropped.Image, Mean, Std) };
    }
}
