using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// NFNet's pre-activation bottleneck (Brock et al. 2021, "High-Performance Large-Scale Image Recognition Without
/// Normalization", §4 and Fig. 6; timm's <c>NormFreeBlock</c> with <c>extra_conv</c>, SE after conv3, <c>skipinit</c>):
/// h = γ·GELU(x)·β;  shortcut = x, or downsample(h) when the shape changes;
/// r = conv3(γ·GELU(conv2b(γ·GELU(conv2(γ·GELU(conv1(h)))))));  r = attn_gain·SE(r);  r = DropPath(r)·skipinit_gain;
/// y = α·r + shortcut. β = 1/√Var(x) is the expected input scale, α the residual scale, γ GELU's variance-preserving
/// constant. The 3×3 convolutions are grouped (group width <see cref="NfNetConfig.GroupSize"/>).
/// Keys <c>downsample.conv</c>, <c>conv1</c>, <c>conv2</c>, <c>conv2b</c>, <c>conv3</c>, <c>attn_last.fc1/fc2</c>, <c>skipinit_gain</c>.
/// </summary>
public sealed class NormFreeBlock : Module<Tensor, Tensor>
{
    private readonly double _alpha, _beta, _gamma, _attnGain;

    /// <summary>Projection shortcut, or null for the identity.</summary>
    public NfDownsample? Downsample { get; }
    /// <summary>1×1 reduction to the bottleneck width.</summary>
    public ScaledStdConv2d Conv1 { get; }
    /// <summary>Grouped 3×3 convolution (strided).</summary>
    public ScaledStdConv2d Conv2 { get; }
    /// <summary>The extra grouped 3×3 convolution of NFNet-F.</summary>
    public ScaledStdConv2d Conv2b { get; }
    /// <summary>1×1 expansion to the output width.</summary>
    public ScaledStdConv2d Conv3 { get; }
    /// <summary>Squeeze-and-excitation on the branch output.</summary>
    public SqueezeExcite AttnLast { get; }
    /// <summary>Stochastic depth on the residual branch.</summary>
    public DropPath DropPath { get; }
    /// <summary>The scalar skipinit gain (0 at initialisation: each block starts as the identity).</summary>
    public Parameter SkipinitGain { get; }

    /// <summary>Creates the block for <paramref name="config"/>: <paramref name="inChannels"/> → <paramref name="outChannels"/>.</summary>
    public NormFreeBlock(NfNetConfig config, int inChannels, int outChannels, int stride, double beta, double dropPath, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        (_alpha, _beta, _gamma, _attnGain) = (config.Alpha, beta, config.ActGamma, config.AttnGain);
        var (mid, groups) = config.Bottleneck(outChannels);
        var eps = config.StdConvEps;
        if (inChannels != outChannels || stride != 1)
            Downsample = Register("downsample", new NfDownsample(inChannels, outChannels, stride, eps, device));
        Conv1 = Register("conv1", new ScaledStdConv2d(inChannels, mid, 1, eps: eps, device: device));
        Conv2 = Register("conv2", new ScaledStdConv2d(mid, mid, 3, stride, groups, eps: eps, device: device));
        Conv2b = Register("conv2b", new ScaledStdConv2d(mid, mid, 3, 1, groups, eps: eps, device: device));
        Conv3 = Register("conv3", new ScaledStdConv2d(mid, outChannels, 1, eps: eps, device: device));
        AttnLast = Register("attn_last", new SqueezeExcite(outChannels, config.SeChannels(outChannels), device));
        DropPath = Register("drop_path", new DropPath(dropPath));
        SkipinitGain = RegisterParameter("skipinit_gain", Torch.Torch.Scalar(0, device: device));
    }

    private Tensor Act(Tensor x) => F.Gelu(x).Mul(_gamma);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        using var s = Scope.Enter();
        var h = Act(input).Mul(_beta);
        var shortcut = Downsample?.Forward(h) ?? input;
        var r = Conv1.Forward(h);
        r = Conv2.Forward(Act(r));
        r = Conv2b.Forward(Act(r));
        r = Conv3.Forward(Act(r));
        r = AttnLast.Forward(r).Mul(_attnGain);
        r = DropPath.Forward(r).Mul(SkipinitGain);
        return s.MoveOut(r.Mul(_alpha).Add(shortcut));
    }
}
