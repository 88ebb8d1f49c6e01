using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Vision.Models.Heads;

/// <summary>
/// mmseg's pyramid pooling module (<c>PPM</c>, PSPNet: Zhao et al. 2017; mmseg/models/decode_heads/psp_head.py): for each
/// pool scale s, AdaptiveAvgPool2d(s) then a 1×1 conv-BN-ReLU to <c>channels</c>, bilinearly upsampled back to the input's
/// size (align_corners = false). Keys as mmseg: <c>{i}.1.conv.weight</c>, <c>{i}.1.bn.*</c> (index 0 of each branch is the
/// parameter-free pooling).
/// </summary>
public sealed class PyramidPoolingModule : Module
{
    private readonly List<Sequential> _branches = [];

    /// <summary>The pool scales, in branch order.</summary>
    public IReadOnlyList<int> PoolScales { get; }

    /// <summary>One branch per scale in <paramref name="poolScales"/>, each from <paramref name="inChannels"/> to <paramref name="channels"/>.</summary>
    public PyramidPoolingModule(IReadOnlyList<int> poolScales, int inChannels, int channels, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(poolScales);
        if (poolScales.Count == 0 || poolScales.Any(s => s < 1))
            throw new ArgumentException($"PyramidPoolingModule: pool scales must be positive, got [{string.Join(", ", poolScales)}]");
        PoolScales = [.. poolScales];
        for (var i = 0; i < poolScales.Count; i++)
            _branches.Add(Register(i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                new Sequential(new AdaptiveAvgPool(poolScales[i]), new ConvBnRelu(inChannels, channels, 1, device: device))));
    }

    /// <summary>[B, C, h, w] → one [B, channels, h, w] map per scale.</summary>
    public Tensor[] Forward(Tensor x)
    {
        var shape = x.Shape;
        return [.. _branches.Select(b =>
        {
            using var s = Scope.Enter();
            return s.MoveOut(DecodeHeads.Resize(b.Forward(x), shape[2], shape[3]));
        })];
    }

    private sealed class AdaptiveAvgPool(int size) : Module<Tensor, Tensor>
    {
        public override Tensor Forward(Tensor input) => F.AdaptiveAvgPool2d(input, [size, size]);
    }
}
