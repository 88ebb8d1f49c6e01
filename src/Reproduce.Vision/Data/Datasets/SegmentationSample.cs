using Reproduce.Torch;

namespace Reproduce.Vision.Data.Datasets;

/// <summary>An image with its per-pixel class map.</summary>
/// <param name="Image">uint8 RGB [3,H,W].</param>
/// <param name="Label">int64 [H,W]: class indices 0..C−1, <see cref="IgnoreIndex"/> where unlabelled (after reduce_zero_label).</param>
/// <param name="ImagePath">The image file.</param>
/// <param name="LabelPath">The annotation file.</param>
public sealed record SegmentationSample(Tensor Image, Tensor Label, string ImagePath, string LabelPath) : IDisposable
{
    /// <summary>The ignore value of label maps (mmseg's ignore_index).</summary>
    public const int IgnoreIndex = 255;

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Image.Dispose();
        Label.Dispose();
    }
}
