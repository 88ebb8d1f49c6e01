using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// mmcv's <c>ConvModule</c> with a BN norm and ReLU, order conv → norm → act: y = ReLU(BN(conv(x))), the conv without
/// bias (mmcv's <c>bias='auto'</c> drops it before a norm). Init as mmcv: the conv
/// Kaiming-normal (fan_out, ReLU), BN γ = 1, β = 0.
/// </summary>
public sealed class ConvBnRelu : Module<Tensor, Tensor>
{
    /// <summary>The convolution (no bias).</summary>
    public Conv2d Conv { get; }
    /// <summary>The BN (ε 1e-5, momentum 0.1: PyTorch's and mmseg's SyncBN defaults).</summary>
    public BatchNorm2d Bn { get; }

    /// <summary>A k×k convolution with "same" padding (dilation·⌊k/2⌋), then BN and ReLU.</summary>
    public ConvBnRelu(int inChannels, int outChannels, int kernelSize, int dilation = 1, Device? device = null)
    {
        Conv = Register("conv", new Conv2d(inChannels, outChannels, kernelSize, padding: kernelSize / 2 * dilation, dilation: dilation, bias: false, device: device));
        Bn = Register("bn", new BatchNorm2d(outChannels, device: device));
        ResetParameters();
    }

    /// <summary>mmcv's ConvModule init (see the class summary).</summary>
    public void ResetParameters()
    {
        Init.KaimingNormal_(Conv.Weight, fanOut: true);
        Init.Ones_(Bn.Weight);
        Init.Zeros_(Bn.Bias);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        using var s = Scope.Enter();
        return s.MoveOut(F.Relu(Bn.Forward(Conv.Forward(input))));
    }
}
