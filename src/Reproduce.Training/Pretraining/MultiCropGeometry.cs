using Reproduce.Torch;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Training.Pretraining;

/// <summary>One crop of a multi-crop view: the box in the source image, its output side, and whether it is flipped.</summary>
/// <param name="Box">The crop in source pixels.</param>
/// <param name="Size">Output side (square).</param>
/// <param name="Flip">Horizontal flip after the resize.</param>
/// <param name="Global">A global crop (seen by the teacher) rather than a local one.</param>
public readonly record struct SslCrop(CropBox Box, int Size, bool Flip, bool Global);

/// <summary>
/// The geometry of DINO/DINOv2's multi-crop (dinov2 <c>data/augmentations.py</c>, <c>DataAugmentationDINO</c>):
/// two global crops (RandomResizedCrop to 224, area scale 0.32–1) and eight local crops (to 96, scale 0.05–0.32),
/// each followed by a horizontal flip with probability ½; aspect ratio 3/4–4/3 (torchvision's default) and bicubic
/// resampling. The boxes come from <see cref="RandomResizedCrop.SampleBox"/>, which follows the same
/// ten-attempt algorithm as torchvision's <c>RandomResizedCrop.get_params</c> (same acceptance test and central
/// fallback); torchvision draws from torch's generator in float32, this from a seeded <see cref="Random"/> in
/// float64, so the boxes are the reference's distribution, not its stream. The photometric part of the pipeline
/// (colour jitter, grayscale, blur, solarize) is applied per crop elsewhere.
/// </summary>
public sealed record MultiCropGeometry
{
    /// <summary>Side of the global crops (224).</summary>
    public int GlobalSize { get; init; } = 224;

    /// <summary>Side of the local crops (96).</summary>
    public int LocalSize { get; init; } = 96;

    /// <summary>Area scale of the global crops (0.32–1).</summary>
    public (double Min, double Max) GlobalScale { get; init; } = (0.32, 1.0);

    /// <summary>Area scale of the local crops (0.05–0.32).</summary>
    public (double Min, double Max) LocalScale { get; init; } = (0.05, 0.32);

    /// <summary>Number of local crops (8; 0 turns them off).</summary>
    public int LocalCrops { get; init; } = 8;

    /// <summary>Number of global crops (dinov2 fixes it at 2).</summary>
    public const int GlobalCrops = 2;

    /// <summary>Draws the crops of one image: the two global crops first, then the local ones (the reference's order).</summary>
    public IReadOnlyList<SslCrop> Sample(int imageHeight, int imageWidth, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (imageHeight <= 0 || imageWidth <= 0) throw new ArgumentException($"multi-crop: image {imageHeight}x{imageWidth} is empty");
        ArgumentOutOfRangeException.ThrowIfNegative(LocalCrops);
        var global = new RandomResizedCrop(GlobalSize) { Scale = GlobalScale, Interpolation = InterpolationMode.Bicubic };
        var local = new RandomResizedCrop(LocalSize) { Scale = LocalScale, Interpolation = InterpolationMode.Bicubic };
        var crops = new List<SslCrop>(GlobalCrops + LocalCrops);
        for (var i = 0; i < GlobalCrops; i++)
            crops.Add(new SslCrop(global.SampleBox(imageHeight, imageWidth, rng), GlobalSize, rng.Chance(0.5), true));
        for (var i = 0; i < LocalCrops; i++)
            crops.Add(new SslCrop(local.SampleBox(imageHeight, imageWidth, rng), LocalSize, rng.Chance(0.5), false));
        return crops;
    }
}
