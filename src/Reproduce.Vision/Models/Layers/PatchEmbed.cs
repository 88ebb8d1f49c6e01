using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// Image to patch tokens. Without a stem this is timm's <c>PatchEmbed</c>: a stride-p, p×p convolution
/// <c>proj</c>, then [B, D, H/p, W/p] → [B, H/p·W/p, D]. With <c>stemChannels</c> &gt; 0 it is TokenLabeling's
/// <c>PatchEmbed4_2</c> (LV-ViT, "All Tokens Matter" §3): <c>conv1</c> 7×7 stride 2 pad 3 → <c>bn1</c> → ReLU,
/// <c>conv2</c> 3×3 → <c>bn2</c> → ReLU, <c>conv3</c> 3×3 → <c>bn3</c> → ReLU (c channels, no conv bias), then
/// <c>proj</c> with kernel and stride p/2 — total stride p. The stem layers are direct children, so the keys are
/// TokenLabeling's (<c>patch_embed.conv1.weight</c>, <c>patch_embed.bn1.running_mean</c>, ...).
/// The input size is fixed (timm's <c>strict_img_size</c>) unless <c>strictImgSize</c> is false, when any size
/// whose sides are multiples of p is accepted (timm's <c>dynamic_img_size</c>).
/// </summary>
public sealed class PatchEmbed : Module<Tensor, Tensor>
{
    /// <summary>The patch projection (key prefix <c>proj</c>).</summary>
    public Conv2d Proj { get; }
    /// <summary>The conv stem's layers in order (conv1, bn1, conv2, bn2, conv3, bn3), empty without a stem.</summary>
    public IReadOnlyList<Module<Tensor, Tensor>> Stem { get; }
    /// <summary>Channels of the conv stem (0: no stem).</summary>
    public int StemChannels { get; }
    /// <summary>Expected input height and width.</summary>
    public int ImgSize { get; }
    /// <summary>Patch side (the total stride).</summary>
    public int PatchSize { get; }
    /// <summary>Input channels.</summary>
    public int InChans { get; }
    /// <summary>Whether only <see cref="ImgSize"/>-square inputs are accepted.</summary>
    public bool StrictImgSize { get; }
    /// <summary>Patches per side at <see cref="ImgSize"/>.</summary>
    public int GridSize => ImgSize / PatchSize;
    /// <summary>Number of patch tokens produced at <see cref="ImgSize"/>.</summary>
    public int NumPatches => GridSize * GridSize;

    /// <summary>Creates the embedding; the convolutions keep PyTorch's default init, as in timm and TokenLabeling.</summary>
    public PatchEmbed(int imgSize, int patchSize, int inChans, int embedDim, bool bias = true, Device? device = null,
        int stemChannels = 0, bool strictImgSize = true)
    {
        if (patchSize <= 0 || imgSize % patchSize != 0)
            throw new ArgumentException($"PatchEmbed: patch size {patchSize} does not divide image size {imgSize}");
        if (stemChannels > 0 && patchSize % 2 != 0)
            throw new ArgumentException($"PatchEmbed: the conv stem needs an even patch size (its stride 2 × proj stride p/2), got {patchSize}");
        ImgSize = imgSize;
        PatchSize = patchSize;
        InChans = inChans;
        StemChannels = Math.Max(stemChannels, 0);
        StrictImgSize = strictImgSize;
        var stem = new List<Module<Tensor, Tensor>>();
        if (StemChannels > 0)
        {
            var c = StemChannels;
            stem.Add(Register("conv1", new Conv2d(inChans, c, 7, stride: 2, padding: 3, bias: false, device: device)));
            stem.Add(Register("bn1", new BatchNorm2d(c, device: device)));
            stem.Add(Register("conv2", new Conv2d(c, c, 3, stride: 1, padding: 1, bias: false, device: device)));
            stem.Add(Register("bn2", new BatchNorm2d(c, device: device)));
            stem.Add(Register("conv3", new Conv2d(c, c, 3, stride: 1, padding: 1, bias: false, device: device)));
            stem.Add(Register("bn3", new BatchNorm2d(c, device: device)));
            Proj = Register("proj", new Conv2d(c, embedDim, patchSize / 2, stride: patchSize / 2, bias: bias, device: device));
        }
        else
        {
            Proj = Register("proj", new Conv2d(inChans, embedDim, patchSize, stride: patchSize, bias: bias, device: device));
        }
        Stem = stem;
    }

    /// <summary>Images [B,C,H,W] → the patch grid [B, D, H/p, W/p] (what MixToken cuts its box from).</summary>
    public Tensor ForwardGrid(Tensor input)
    {
        CheckInput(input);
        using var s = Scope.Enter();
        var x = input;
        for (var i = 0; i < Stem.Count; i += 2)
            x = F.Relu(Stem[i + 1].Forward(Stem[i].Forward(x)));
        return s.MoveOut(Proj.Forward(x));
    }

    /// <summary>Images [B,C,H,W] → patch tokens [B, H/p·W/p, D], row-major over the grid.</summary>
    public override Tensor Forward(Tensor input)
    {
        using var s = Scope.Enter();
        return s.MoveOut(ForwardGrid(input).Flatten(2).Transpose(1, 2));
    }

    private void CheckInput(Tensor input)
    {
        var shape = input.Shape;
        if (StrictImgSize)
        {
            if (shape.Length != 4 || shape[1] != InChans || shape[2] != ImgSize || shape[3] != ImgSize)
                throw new ArgumentException($"PatchEmbed: expected input [B,{InChans},{ImgSize},{ImgSize}], got {input.Describe()} (set dynamic_img_size for other sizes)");
        }
        else if (shape.Length != 4 || shape[1] != InChans || shape[2] < PatchSize || shape[3] < PatchSize
                 || shape[2] % PatchSize != 0 || shape[3] % PatchSize != 0)
        {
            throw new ArgumentException($"PatchEmbed: expected input [B,{InChans},H,W] with H and W multiples of the patch size {PatchSize}, got {input.Describe()}");
        }
    }
}
