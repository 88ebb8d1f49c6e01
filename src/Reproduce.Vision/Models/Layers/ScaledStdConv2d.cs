using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// Convolution with scaled weight standardisation (Brock et al. 2021, "Characterizing signal propagation…", eq. 2;
/// timm's <c>ScaledStdConv2dSame</c>): each filter Wᵢ (its fan-in N = C/groups·k² entries) is used as
/// Ŵᵢ = gᵢ · γ/√N · (Wᵢ − mean(Wᵢ)) / √(var(Wᵢ) + ε), with the biased variance, a learnable gain gᵢ and a bias.
/// Padding is TensorFlow's <c>SAME</c>: total padding max((⌈s/stride⌉ − 1)·stride + k − s, 0) per side of the input,
/// the smaller half before (asymmetric for even totals, as the DeepMind weights were trained).
/// Keys <c>weight</c>, <c>bias</c>, <c>gain</c> [out, 1, 1, 1], as timm.
/// </summary>
public sealed class ScaledStdConv2d : Module<Tensor, Tensor>
{
    private readonly long _stride, _groups, _kernel;
    private readonly double _scale;

    /// <summary>Weight [out, in/groups, k, k] (standardised at every forward).</summary>
    public Parameter Weight { get; }
    /// <summary>Bias [out].</summary>
    public Parameter Bias { get; }
    /// <summary>Per-filter gain g [out, 1, 1, 1].</summary>
    public Parameter Gain { get; }
    /// <summary>ε added to the filter variance (timm's <c>std_conv_eps</c>: 1e-5 for the NFNet-F models).</summary>
    public double Eps { get; }

    /// <summary>Creates the layer: PyTorch's default U(±1/√fan_in) for weight and bias, gain = <paramref name="gainInit"/>.</summary>
    public ScaledStdConv2d(long inChannels, long outChannels, long kernel, long stride = 1, long groups = 1, double gamma = 1.0, double eps = 1e-5, double gainInit = 1.0, Device? device = null)
    {
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"ScaledStdConv2d: channels {inChannels}→{outChannels} are not divisible by groups={groups}");
        using var s = Scope.Enter();
        (_stride, _groups, _kernel, Eps) = (stride, groups, kernel, eps);
        var fanIn = inChannels / groups * kernel * kernel;
        _scale = gamma / Math.Sqrt(fanIn);
        var bound = 1 / Math.Sqrt(fanIn);
        Weight = RegisterParameter("weight", Torch.Torch.Empty([outChannels, inChannels / groups, kernel, kernel], device: device).Uniform_(-bound, bound));
        Bias = RegisterParameter("bias", Torch.Torch.Empty([outChannels], device: device).Uniform_(-bound, bound));
        Gain = RegisterParameter("gain", Torch.Torch.Full([outChannels, 1, 1, 1], gainInit, device: device));
    }

    /// <summary>The standardised, scaled weight Ŵ used by <see cref="Forward"/>.</summary>
    public Tensor StandardizedWeight()
    {
        using var s = Scope.Enter();
        var o = Weight.Size(0);
        var w = F.BatchNorm(Weight.Reshape(1, o, -1), null, null, Gain.Mul(_scale).Reshape(o), null, training: true, momentum: 0, eps: Eps);
        return s.MoveOut(w.Reshape(Weight.Shape));
    }

    /// <summary>TF-style SAME padding (left, right, top, bottom) of an input side for this kernel and stride.</summary>
    public static long SamePad(long size, long kernel, long stride) =>
        Math.Max(((size + stride - 1) / stride - 1) * stride + kernel - size, 0);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        using var s = Scope.Enter();
        long ph = SamePad(input.Size(2), _kernel, _stride), pw = SamePad(input.Size(3), _kernel, _stride);
        var x = ph == 0 && pw == 0 ? input : F.Pad(input, [pw / 2, pw - pw / 2, ph / 2, ph - ph / 2]);
        return s.MoveOut(F.Conv2d(x, StandardizedWeight(), Bias, [_stride, _stride], [0, 0], null, _groups));
    }
}
