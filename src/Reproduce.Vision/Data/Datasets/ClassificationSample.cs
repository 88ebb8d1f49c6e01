using Reproduce.Torch;

namespace Reproduce.Vision.Data.Datasets;

/// <summary>An image with its class index.</summary>
/// <param name="Image">uint8 RGB [3,H,W].</param>
/// <param name="Label">Class index into the dataset's class list.</param>
/// <param name="Path">The image file.</param>
public sealed record ClassificationSample(Tensor Image, int Label, string Path) : IDisposable
{
    /// <summary>Frees the image tensor.</summary>
    public void Dispose() => Image.Dispose();
}
