using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// Squeeze-and-excitation (Hu et al. 2018; timm's <c>SEModule</c>): x · σ(fc2(ReLU(fc1(mean_hw(x))))), fc1/fc2 1×1
/// convolutions with bias, C → r → C. Keys <c>fc1</c>, <c>fc2</c>.
/// </summary>
public sealed class SqueezeExcite : Module<Tensor, Tensor>
{
    /// <summary>Reduction C → r.</summary>
    public Conv2d Fc1 { get; }
    /// <summary>Expansion r → C.</summary>
    public Conv2d Fc2 { get; }

    /// <summary>Creates the module with <paramref name="reduced"/> hidden channels.</summary>
    public SqueezeExcite(int channels, int reduced, Device? device = null)
    {
        Fc1 = Register("fc1", new Conv2d(channels, reduced, 1, device: device));
        Fc2 = Register("fc2", new Conv2d(reduced, channels, 1, device: device));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        using var s = Scope.Enter();
        var gate = F.Sigmoid(Fc2.Forward(F.Relu(Fc1.Forward(input.Mean([2, 3], keepDim: true)))));
        return s.MoveOut(input.Mul(gate));
    }
}
