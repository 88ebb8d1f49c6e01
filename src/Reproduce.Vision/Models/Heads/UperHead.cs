using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Vision.Models.Heads;

/// <summary>
/// mmseg's <c>UPerHead</c> (UPerNet, Xiao et al. 2018, "Unified Perceptual Parsing for Scene Understanding";
/// mmseg/models/decode_heads/uper_head.py), over n feature maps of decreasing resolution:
/// <list type="number">
/// <item>PSP on the last map: P = bottleneck(cat[x_n, PPM(x_n)]) (3×3 conv-BN-ReLU to <c>channels</c>);</item>
/// <item>laterals L_i = lateral_conv_i(x_i) (1×1 conv-BN-ReLU) for i &lt; n, and L_n = P;</item>
/// <item>top-down: L_{i−1} += resize(L_i, size of L_{i−1}) for i = n … 2 (bilinear, align_corners = false);</item>
/// <item>F_i = fpn_conv_i(L_i) (3×3 conv-BN-ReLU) for i &lt; n, F_n = L_n; every F_i resized to F_1's size;</item>
/// <item>logits = conv_seg(Dropout2d(fpn_bottleneck(cat F))) (3×3 conv-BN-ReLU, then a 1×1 conv with bias).</item>
/// </list>
/// Keys as mmseg: <c>psp_modules.{i}.1.conv.weight</c>, <c>bottleneck.*</c>, <c>lateral_convs.{i}.*</c>,
/// <c>fpn_convs.{i}.*</c>, <c>fpn_bottleneck.*</c>, <c>conv_seg.*</c>. Init as mmseg: ConvModules Kaiming (fan_out),
/// conv_seg N(0, 0.01²), bias 0.
/// </summary>
public sealed class UperHead : Module
{
    /// <summary>The pyramid pooling module on the last map.</summary>
    public PyramidPoolingModule PspModules { get; }
    /// <summary>3×3 conv-BN-ReLU over [x_n, PPM branches].</summary>
    public ConvBnRelu Bottleneck { get; }
    /// <summary>1×1 conv-BN-ReLU per map but the last.</summary>
    public ModuleList<ConvBnRelu> LateralConvs { get; }
    /// <summary>3×3 conv-BN-ReLU per map but the last.</summary>
    public ModuleList<ConvBnRelu> FpnConvs { get; }
    /// <summary>3×3 conv-BN-ReLU over the concatenated pyramid.</summary>
    public ConvBnRelu FpnBottleneck { get; }
    /// <summary>The per-location classifier (1×1 conv).</summary>
    public Conv2d ConvSeg { get; }
    /// <summary>Dropout2d before <see cref="ConvSeg"/> (mmseg <c>dropout_ratio</c>).</summary>
    public double DropoutRatio { get; }

    /// <summary>Creates the head (mmseg argument names in parentheses).</summary>
    /// <param name="inChannels">Channels of each input map (<c>in_channels</c>), finest first.</param>
    /// <param name="channels">Width of every conv (<c>channels</c>; Token Labeling's S/M configs 256, L 512).</param>
    /// <param name="numClasses">Classes (<c>num_classes</c>).</param>
    /// <param name="poolScales">PPM scales (<c>pool_scales</c>, default (1, 2, 3, 6)).</param>
    /// <param name="dropoutRatio">Dropout2d before conv_seg (<c>dropout_ratio</c>, default 0.1).</param>
    /// <param name="device">Device for the parameters.</param>
    public UperHead(IReadOnlyList<int> inChannels, int channels, int numClasses, IReadOnlyList<int>? poolScales = null, double dropoutRatio = 0.1,
        Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(inChannels);
        if (inChannels.Count < 2 || inChannels.Any(c => c <= 0) || channels <= 0 || numClasses <= 0)
            throw new ArgumentException($"UperHead: invalid sizes (in [{string.Join(", ", inChannels)}], channels {channels}, classes {numClasses}); at least two input maps");
        if (dropoutRatio is < 0 or >= 1) throw new ArgumentException($"UperHead: dropout {dropoutRatio} outside [0, 1)");
        DropoutRatio = dropoutRatio;
        ConvSeg = Register("conv_seg", new Conv2d(channels, numClasses, 1, device: device));
        Init.Normal_(ConvSeg.Weight, std: 0.01);
        Init.Zeros_(ConvSeg.Bias!);
        var scales = poolScales ?? [1, 2, 3, 6];
        PspModules = Register("psp_modules", new PyramidPoolingModule(scales, inChannels[^1], channels, device));
        Bottleneck = Register("bottleneck", new ConvBnRelu(inChannels[^1] + scales.Count * channels, channels, 3, device: device));
        LateralConvs = Register("lateral_convs", new ModuleList<ConvBnRelu>(inChannels.Take(inChannels.Count - 1).Select(c => new ConvBnRelu(c, channels, 1, device: device))));
        FpnConvs = Register("fpn_convs", new ModuleList<ConvBnRelu>(inChannels.Take(inChannels.Count - 1).Select(_ => new ConvBnRelu(channels, channels, 3, device: device))));
        FpnBottleneck = Register("fpn_bottleneck", new ConvBnRelu(inChannels.Count * channels, channels, 3, device: device));
    }

    /// <summary>Input maps [B, in_i, h_i, w_i] (finest first) → logits [B, classes, h_1, w_1].</summary>
    public Tensor Forward(IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var n = LateralConvs.Count + 1;
        if (inputs.Count != n) throw new ArgumentException($"UperHead: expected {n} feature maps, got {inputs.Count}");
        using var s = Scope.Enter();
        var top = inputs[^1];
        var laterals = new Tensor[n];
        for (var i = 0; i < n - 1; i++) laterals[i] = LateralConvs[i].Forward(inputs[i]);
        laterals[n - 1] = Bottleneck.Forward(Tensor.Cat([top, .. PspModules.Forward(top)], 1));
        for (var i = n - 1; i > 0; i--)
        {
            var prev = laterals[i - 1].Shape;
            laterals[i - 1] = laterals[i - 1].Add(DecodeHeads.Resize(laterals[i], prev[2], prev[3]));
        }
        var outs = new Tensor[n];
        for (var i = 0; i < n - 1; i++) outs[i] = FpnConvs[i].Forward(laterals[i]);
        outs[n - 1] = laterals[n - 1];
        var size = outs[0].Shape;
        for (var i = n - 1; i > 0; i--) outs[i] = DecodeHeads.Resize(outs[i], size[2], size[3]);
        var x = FpnBottleneck.Forward(Tensor.Cat(outs, 1));
        return s.MoveOut(ConvSeg.Forward(DecodeHeads.Dropout2d(x, DropoutRatio, Training)));
    }
}
