using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// torchvision's <c>Bottleneck</c> (ResNet-50/101/152, "ResNet v1.5": the stride sits on the 3×3 convolution):
/// y = ReLU(bn3(conv3(ReLU(bn2(conv2(ReLU(bn1(conv1(x)))))))) + shortcut(x)), conv1 1×1 → width, conv2 3×3 (strided),
/// conv3 1×1 → 4·planes, no conv biases; the shortcut is <c>downsample</c> (1×1 strided conv + BN) when the shape
/// changes.
/// </summary>
public sealed class Bottleneck : Module<Tensor, Tensor>
{
    /// <summary>Output channels per "plane" (4).</summary>
    public const int Expansion = 4;
    /// <summary>1×1 reduction.</summary>
    public Conv2d Conv1 { get; }
    /// <summary>BN after <see cref="Conv1"/>.</summary>
    public BatchNorm2d Bn1 { get; }
    /// <summary>3×3 convolution (strided).</summary>
    public Conv2d Conv2 { get; }
    /// <summary>BN after <see cref="Conv2"/>.</summary>
    public BatchNorm2d Bn2 { get; }
    /// <summary>1×1 expansion to 4·planes.</summary>
    public Conv2d Conv3 { get; }
    /// <summary>BN after <see cref="Conv3"/> (the residual branch's last norm).</summary>
    public BatchNorm2d Bn3 { get; }
    /// <summary>Projection shortcut, or null for the identity.</summary>
    public Sequential? Downsample { get; }

    /// <summary>Creates the block: <paramref name="inplanes"/> → 4·<paramref name="planes"/> channels at <paramref name="stride"/>.</summary>
    public Bottleneck(int inplanes, int planes, int stride = 1, Device? device = null)
    {
        var width = planes; // torchvision: planes · (base_width / 64) · groups, with the defaults 64 and 1
        Conv1 = Register("conv1", new Conv2d(inplanes, width, 1, bias: false, device: device));
        Bn1 = Register("bn1", new BatchNorm2d(width, device: device));
        Conv2 = Register("conv2", new Conv2d(width, width, 3, stride: stride, padding: 1, bias: false, device: device));
        Bn2 = Register("bn2", new BatchNorm2d(width, device: device));
        Conv3 = Register("conv3", new Conv2d(width, planes * Expansion, 1, bias: false, device: device));
        Bn3 = Register("bn3", new BatchNorm2d(planes * Expansion, device: device));
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
        x = F.Relu(Bn2.Forward(Conv2.Forward(x)));
        x = Bn3.Forward(Conv3.Forward(x));
        var shortcut = Downsample?.Forward(input) ?? input;
        return s.MoveOut(F.Relu(x.Add(shortcut)));
    }
}
