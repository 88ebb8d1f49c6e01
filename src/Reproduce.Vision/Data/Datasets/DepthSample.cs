using Reproduce.Torch;

namespace Reproduce.Vision.Data.Datasets;

/// <summary>An image with its ground-truth depth.</summary>
/// <param name="Image">uint8 RGB [3,H,W].</param>
/// <param name="Depth">float32 [H,W] in metres; 0 where there is no measurement.</param>
/// <param name="Valid">bool [H,W]: true where <paramref name="Depth"/> holds a measurement (stored value &gt; 0).</param>
/// <param name="Focal">Focal length in pixels, from the split file.</param>
/// <param name="ImagePath">The image file.</param>
/// <param name="DepthPath">The depth PNG.</param>
public sealed record DepthSample(Tensor Image, Tensor Depth, Tensor Valid, double Focal, string ImagePath, string DepthPath) : IDisposable
{
    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Image.Dispose();
        Depth.Dispose();
        Valid.Dispose();
    }
}
