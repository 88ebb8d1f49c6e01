using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Heads;

/// <summary>
/// DINOv2's linear segmentation probe (<c>BNHead</c>, dinov2/eval/segmentation/models/decode_heads/linear_head.py;
/// docs/protocols/dense-probes.md §5.1): the patch-token maps of the chosen blocks are resized (bilinear) to the first map's size and
/// concatenated on channels, then <c>logits = conv_seg(Dropout2d(BN(x)))</c> with a 1×1 <c>conv_seg</c>, and bilinearly
/// upsampled to the input size. "lin1" reads the last block, "lin4" the last four (<see cref="ProbeLayerIndices.Segmentation"/>).
/// Only patch tokens are used (the class token is not part of the "lin." probe).
/// Init as mmseg: <c>conv_seg</c> N(0, 0.01²) with zero bias, BN γ = 1, β = 0.
/// </summary>
public sealed class LinearSegmentationHead : SegmentationDecodeHead
{
    /// <summary>BatchNorm over the concatenated channels (SyncBN in DINOv2; plain BN here).</summary>
    public BatchNorm2d Bn { get; }
    /// <summary>The per-location linear classifier (1×1 conv).</summary>
    public Conv2d ConvSeg { get; }
    /// <summary>Channels of each input map (the backbone width D, once per layer).</summary>
    public IReadOnlyList<int> InChannels { get; }
    /// <summary>Number of classes (150 for ADE20K).</summary>
    public int NumClasses { get; }
    /// <summary>
    /// Dropout2d before <c>conv_seg</c> (mmseg's <c>dropout_ratio</c>; its default is 0.1, DINOv2-style linear configs use 0,
    /// docs/protocols/dense-probes.md §5.1: default 0).
    /// </summary>
    public double DropoutRatio { get; }

    /// <summary>Creates the head for <paramref name="inChannels"/> (one entry per layer).</summary>
    public LinearSegmentationHead(IReadOnlyList<int> inChannels, int numClasses, double dropoutRatio = 0, Device? device = null)
    {
        if (inChannels.Count == 0 || inChannels.Any(c => c <= 0) || numClasses <= 0)
            throw new ArgumentException($"LinearSegmentationHead: channels [{string.Join(", ", inChannels)}] and {numClasses} classes must be positive");
        if (dropoutRatio is < 0 or >= 1) throw new ArgumentException($"LinearSegmentationHead: dropout {dropoutRatio} outside [0, 1)");
        (InChannels, NumClasses, DropoutRatio) = (inChannels.ToArray(), numClasses, dropoutRatio);
        var channels = inChannels.Sum();
        Bn = Register("bn", new BatchNorm2d(channels, device: device));
        ConvSeg = Register("conv_seg", new Conv2d(channels, numClasses, 1, device: device));
        ResetParameters();
    }

    /// <summary>A head for a ViT of width <paramref name="embedDim"/> reading <paramref name="layers"/> (lin1: D channels, lin4: 4·D).</summary>
    public static LinearSegmentationHead ForVit(int embedDim, ProbeLayers layers, int numClasses, double dropoutRatio = 0, Device? device = null) =>
        new(Enumerable.Repeat(embedDim, layers == ProbeLayers.Lin1 ? 1 : 4).ToArray(), numClasses, dropoutRatio, device);

    /// <summary>mmseg's init (see the class summary).</summary>
    public void ResetParameters()
    {
        Init.Normal_(ConvSeg.Weight, std: 0.01);
        Init.Zeros_(ConvSeg.Bias!);
        Init.Ones_(Bn.Weight);
        Init.Zeros_(Bn.Bias);
    }

    /// <summary>Patch maps [B, D, h, w] (one per layer) → logits [B, classes, h₀, w₀] at the first map's resolution.</summary>
    public Tensor ForwardLogits(IReadOnlyList<Tensor> maps)
    {
        if (maps.Count != InChannels.Count)
            throw new ArgumentException($"LinearSegmentationHead: {maps.Count} feature maps for a head over {InChannels.Count} layers");
        using var s = Scope.Enter();
        var first = maps[0].Shape;
        var x = DecodeHeads.ResizeConcat(maps, first[2], first[3]);
        x = DecodeHeads.Dropout2d(Bn.Forward(x), DropoutRatio, Training);
        return s.MoveOut(ConvSeg.Forward(x));
    }

    /// <summary>Patch maps → logits bilinearly upsampled to <paramref name="height"/>×<paramref name="width"/> (the input or label size).</summary>
    public Tensor Forward(IReadOnlyList<Tensor> maps, long height, long width)
    {
        using var s = Scope.Enter();
        return s.MoveOut(DecodeHeads.Resize(ForwardLogits(maps), height, width));
    }

    /// <summary>The same from a ViT's <see cref="VisionTransformer.GetIntermediateLayers(Tensor, IReadOnlyList{int}, bool)"/> output (patch maps only).</summary>
    public override Tensor Forward(IReadOnlyList<IntermediateLayer> layers, long height, long width) =>
        Forward(layers.Select(l => l.Patches).ToArray(), height, width);
}
