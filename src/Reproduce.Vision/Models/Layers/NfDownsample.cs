using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// The projection shortcut of a <see cref="NormFreeBlock"/> (timm's <c>DownsampleAvg</c>, as in "ResNet-D"): a 2×2
/// average pool with the block's stride (ceil mode, padding not counted, so an odd side keeps its last row) when
/// strided, then a 1×1 <see cref="ScaledStdConv2d"/> (key <c>conv</c>).
/// </summary>
public sealed class NfDownsample : Module<Tensor, Tensor>
{
    private readonly int _stride;

    /// <summary>The 1×1 projection.</summary>
    public ScaledStdConv2d Conv { get; }

    /// <summary>Creates the shortcut <paramref name="inChannels"/> → <paramref name="outChannels"/> at <paramref name="stride"/>.</summary>
    public NfDownsample(int inChannels, int outChannels, int stride, double eps, Device? device = null)
    {
        _stride = stride;
        Conv = Register("conv", new ScaledStdConv2d(inChannels, outChannels, 1, eps: eps, device: device));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (_stride == 1) return Conv.Forward(input);
        using var s = Scope.Enter();
        // aten::avg_pool2d(self, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
        var pooled = Op.Get("aten::avg_pool2d").Invoke(input, new long[] { 2, 2 }, new long[] { _stride, _stride }, new long[] { 0, 0 }, true, false, Arg.None);
        return s.MoveOut(Conv.Forward(pooled));
    }
}
