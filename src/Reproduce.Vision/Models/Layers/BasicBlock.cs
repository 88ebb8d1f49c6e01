using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// torchvision's <c>BasicBlock</c> (ResNet-18/34): y = ReLU(bn2(conv2(ReLU(bn1(conv1(x))))) + shortcut(x)), both
/// convolutions 3×3 without bias, the first one strided; the shortcut is <c>downsample</c> (1×1 strided conv + BN)
/// when the shape changes, else the identity.
/// </summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    /// <summary>Output channels per input "plane" (1).</summary>
    public const int Expansion = 1;
    /// <summary>First 3×3 convolution (strided).</summary>
    public Conv2d Conv1 { get; }
    /// <summary>BN after <see cref="Conv1"/>.</summary>
    public BatchNorm2d Bn1 { get; }
    /// <summary>Second 3×3 convolution.</summary>
    public Conv2d Conv2 { get; }
    /// <summary>BN after <see cref="Conv2"/> (the residual branch's last norm).</summary>
    public BatchNorm2d Bn2 { get; }
    /// <summary>Projection shortcut, or null for the identity.</summary>
    public Sequential? Downsample { get; }

    /// <summary>Creates the block: <paramref name="inplanes"/> → <paramref name="planes"/> channels at <paramref name="stride"/>.</summary>
    public BasicBlock(int inplanes, int planes, int stride = 1, Device? device = null)
    {
        Conv1 = Register("conv1", new Conv2d(inplanes, planes, 3, stride: stride, padding: 1, bias: false, device: device));
        Bn1 = Register("bn1", new BatchNorm2d(planes, device: device));
        Conv2 = Register("conv2", new Conv2d(planes, planes, 3, padding: 1, bias: false, device: device));
        Bn2 = Register("bn2", new BatchNorm2d(planes, device: device));
        if (stride != 1 || inplanes != planes * Expansion)
            Downsample = Register("downsample", new Sequential(
                new Conv2d(inplanes, planes * Expansion, 1, stride: stride, bias: false, device: device),
                new BatchNorm2d(planes * Expansion, device: device)));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        using var s = Scope.Enter();
        var x = F.Relu(Bn1.Forward(Conv1.Forward(input)));
        x = Bn2.Forward(Conv2.Forward(x));
        var shortcut = Downsample?.Forward(input) ?? input;
        return s.MoveOut(F.Relu(x.Add(shortcut)));
    }
}
