using Reproduce.Torch;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// One DINOv2 batch as dinov2's <c>collate_data_and_cast</c> lays it out: crops stacked crop-major (all images'
/// first global crop, then all second ones; likewise for the local crops), and the iBOT masks of the global crops.
/// </summary>
/// <param name="GlobalCrops">[2·B, C, H, W].</param>
/// <param name="LocalCrops">[L·B, C, h, w], or null without local crops.</param>
/// <param name="Masks">[2·B, N] bool.</param>
public sealed record DinoV2Batch(Tensor GlobalCrops, Tensor? LocalCrops, Tensor Masks)
{
    /// <summary>B, the number of images.</summary>
    public long Images => GlobalCrops.Size(0) / 2;

    /// <summary>L, the number of local crops per image.</summary>
    public long LocalCropCount => LocalCrops is null ? 0 : LocalCrops.Size(0) / Images;

    /// <summary>Throws unless the shapes fit together.</summary>
    public void Validate()
    {
        if (GlobalCrops.Dim != 4 || GlobalCrops.Size(0) % 2 != 0 || GlobalCrops.Size(0) == 0)
            throw new ArgumentException($"DINOv2 batch: global crops {GlobalCrops.Describe()} must be [2·B, C, H, W]");
        if (LocalCrops is not null && (LocalCrops.Dim != 4 || LocalCrops.Size(0) % Images != 0))
            throw new ArgumentException($"DINOv2 batch: local crops {LocalCrops.Describe()} must be [L·B, C, h, w] with B = {Images}");
        if (Masks.Dim != 2 || Masks.Size(0) != GlobalCrops.Size(0) || Masks.DType != ScalarType.Bool)
            throw new ArgumentException($"DINOv2 batch: masks {Masks.Describe()} must be bool [{GlobalCrops.Size(0)}, N]");
    }
}
