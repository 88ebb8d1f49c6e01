namespace Reproduce.Torch.Nn;

/// <summary>
/// A 2-D transposed convolution (PyTorch's <c>nn.ConvTranspose2d</c>, keys <c>weight</c> [in, out/groups, k, k] and
/// <c>bias</c>): output side (in − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1.
/// </summary>
public sealed class ConvTranspose2d : Module<Tensor, Tensor>
{
    private readonly long[] _stride, _padding, _outputPadding, _dilation;
    private readonly long _groups;
    /// <summary>Weight [in, out/groups, kh, kw].</summary>
    public Parameter Weight { get; }
    /// <summary>Bias [out], or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>
    /// Creates the layer with PyTorch's default initialisation, U(±1/√fan_in), where PyTorch takes fan_in from the
    /// weight's second dimension: (out/groups)·k².
    /// </summary>
    public ConvTranspose2d(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0, long outputPadding = 0,
        long groups = 1, bool bias = true, long dilation = 1, Device? device = null)
    {
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"ConvTranspose2d: channels {inChannels}→{outChannels} are not divisible by groups={groups}");
        using var s = Scope.Enter();
        (_stride, _padding, _outputPadding, _dilation, _groups) = ([stride, stride], [padding, padding], [outputPadding, outputPadding], [dilation, dilation], groups);
        var bound = 1 / Math.Sqrt(outChannels / groups * kernel * kernel);
        Weight = RegisterParameter("weight", Torch.Empty([inChannels, outChannels / groups, kernel, kernel], device: device).Uniform_(-bound, bound));
        Bias = bias ? RegisterParameter("bias", Torch.Empty([outChannels], device: device).Uniform_(-bound, bound)) : RegisterParameter("bias", (Parameter?)null);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.ConvTranspose2d(input, Weight, Bias, _stride, _padding, _outputPadding, _groups, _dilation);
}
