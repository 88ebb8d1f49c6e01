using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Vision.Models.Heads;

/// <summary>
/// mmseg's <c>FCNHead</c> ("Fully Convolutional Networks", Long et al. 2015; mmseg/models/decode_heads/fcn_head.py),
/// for Token Labeling's "LV-ViT-S + FCN" ADE20K row (46.1 → 47.2 mIoU; that row's config, schedule and input layer are
/// not found, docs/papers/token-labeling.md §1.8, docs/protocols.md §6): <c>convs</c> = <see cref="NumConvs"/> conv-BN-ReLU modules (k×k, "same"
/// padding), optionally <c>conv_cat</c> over [input, convs output] (<c>concat_input</c>), then Dropout2d and the 1×1
/// <c>conv_seg</c> classifier; logits are bilinearly upsampled to the label size. mmseg's defaults: 2 convs, kernel 3,
/// concat_input on, dropout 0.1.
/// </summary>
public sealed class FcnHead : SegmentationDecodeHead
{
    /// <summary>The conv-BN-ReLU stack (empty when <see cref="NumConvs"/> is 0, as newer mmseg allows).</summary>
    public Sequential Convs { get; }
    /// <summary>Fusion of the input and the stack's output, or null without <c>concat_input</c>.</summary>
    public ConvBnRelu? ConvCat { get; }
    /// <summary>The per-location classifier (1×1 conv).</summary>
    public Conv2d ConvSeg { get; }
    /// <summary>Convolutions in <see cref="Convs"/>.</summary>
    public int NumConvs { get; }
    /// <summary>Dropout2d before <see cref="ConvSeg"/>.</summary>
    public double DropoutRatio { get; }

    /// <summary>Creates the head (mmseg argument names in parentheses).</summary>
    /// <param name="inChannels">Input channels (<c>in_channels</c>), e.g. the backbone width.</param>
    /// <param name="channels">Channels of the convs (<c>channels</c>); mmseg's ADE configs use 256 for auxiliary heads, 512 for FCN decode heads on ResNets.</param>
    /// <param name="numClasses">Classes (<c>num_classes</c>; 150 for ADE20K).</param>
    /// <param name="numConvs">Conv-BN-ReLU modules (<c>num_convs</c>, default 2; 0 requires inChannels = channels).</param>
    /// <param name="kernelSize">Kernel of the convs (<c>kernel_size</c>, default 3).</param>
    /// <param name="concatInput">Fuse input and conv output with <c>conv_cat</c> (<c>concat_input</c>, default true).</param>
    /// <param name="dilation">Dilation of the convs (<c>dilation</c>, default 1).</param>
    /// <param name="dropoutRatio">Dropout2d before <c>conv_seg</c> (<c>dropout_ratio</c>, default 0.1).</param>
    /// <param name="device">Device for the parameters.</param>
    public FcnHead(int inChannels, int channels, int numClasses, int numConvs = 2, int kernelSize = 3, bool concatInput = true,
        int dilation = 1, double dropoutRatio = 0.1, Device? device = null)
    {
        if (inChannels <= 0 || channels <= 0 || numClasses <= 0 || numConvs < 0 || kernelSize < 1 || dilation < 1)
            throw new ArgumentException($"FcnHead: invalid sizes (in {inChannels}, channels {channels}, classes {numClasses}, convs {numConvs}, kernel {kernelSize}, dilation {dilation})");
        if (numConvs == 0 && inChannels != channels)
            throw new ArgumentException($"FcnHead: without convs the input width {inChannels} must equal channels {channels}");
        if (dropoutRatio is < 0 or >= 1) throw new ArgumentException($"FcnHead: dropout {dropoutRatio} outside [0, 1)");
        (NumConvs, DropoutRatio) = (numConvs, dropoutRatio);
        Convs = Register("convs", new Sequential());
        for (var i = 0; i < numConvs; i++)
            Convs.Add(new ConvBnRelu(i == 0 ? inChannels : channels, channels, kernelSize, dilation, device));
        ConvCat = concatInput ? Register("conv_cat", new ConvBnRelu(inChannels + channels, channels, kernelSize, 1, device)) : null;
        ConvSeg = Register("conv_seg", new Conv2d(channels, numClasses, 1, device: device));
        Init.Normal_(ConvSeg.Weight, std: 0.01);
        Init.Zeros_(ConvSeg.Bias!);
    }

    /// <summary>Feature map [B, C, h, w] → logits [B, classes, h, w].</summary>
    public Tensor ForwardLogits(Tensor features)
    {
        using var s = Scope.Enter();
        var x = NumConvs > 0 ? Convs.Forward(features) : features;
        if (ConvCat is not null) x = ConvCat.Forward(Tensor.Cat([features, x], 1));
        x = DecodeHeads.Dropout2d(x, DropoutRatio, Training);
        return s.MoveOut(ConvSeg.Forward(x));
    }

    /// <summary>Feature map → logits bilinearly upsampled to <paramref name="height"/>×<paramref name="width"/>.</summary>
    public Tensor Forward(Tensor features, long height, long width)
    {
        using var s = Scope.Enter();
        return s.MoveOut(DecodeHeads.Resize(ForwardLogits(features), height, width));
    }

    /// <summary>
    /// The same from a ViT's patch maps: one map is the input as is (mmseg <c>in_index=-1</c>); several are resized to
    /// the first one's grid and concatenated on channels, as the linear head does (mmseg's <c>resize_concat</c>).
    /// </summary>
    public override Tensor Forward(IReadOnlyList<IntermediateLayer> layers, long height, long width)
    {
        ArgumentNullException.ThrowIfNull(layers);
        using var s = Scope.Enter();
        var first = layers[0].Patches.Shape;
        var x = layers.Count == 1 ? layers[0].Patches : DecodeHeads.ResizeConcat(layers.Select(l => l.Patches).ToArray(), first[2], first[3]);
        return s.MoveOut(Forward(x, height, width));
    }
}
