using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// Image to patch tokens (timm's <c>PatchEmbed</c>): a stride-p, p×p convolution <c>proj</c>, then
/// [B, D, H/p, W/p] → [B, H/p·W/p, D]. The input size is fixed (timm's <c>strict_img_size</c>).
/// </summary>
public sealed class PatchEmbed : Module<Tensor, Tensor>
{
    /// <summary>The patch projection (key prefix <c>proj</c>).</summary>
    public Conv2d Proj { get; }
    /// <summary>Expected input height and width.</summary>
    public int ImgSize { get; }
    /// <summary>Patch side.</summary>
    public int PatchSize { get; }
    /// <summary>Patches per side.</summary>
    public int GridSize => ImgSize / PatchSize;
    /// <summary>Number of patch tokens produced.</summary>
    public int NumPatches => GridSize * GridSize;

    /// <summary>Creates the embedding; the convolution keeps PyTorch's default init, as in timm.</summary>
    public PatchEmbed(int imgSize, int patchSize, int inChans, int embedDim, bool bias = true, Device? device = null)
    {
        if (patchSize <= 0 || imgSize % patchSize != 0)
            throw new ArgumentException($"PatchEmbed: patch size {patchSize} does not divide image size {imgSize}");
        ImgSize = imgSize;
        PatchSize = patchSize;
        Proj = Register("proj", new Conv2d(inChans, embedDim, patchSize, stride: patchSize, bias: bias, device: device));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        var shape = input.Shape;
        if (shape.Length != 4 || shape[2] != ImgSize || shape[3] != ImgSize)
            throw new ArgumentException($"PatchEmbed: expected input [B,C,{ImgSize},{ImgSize}], got {input.Describe()}");
        using var s = Scope.Enter();
        return s.MoveOut(Proj.Forward(input).Flatten(2).Transpose(1, 2));
    }
}
