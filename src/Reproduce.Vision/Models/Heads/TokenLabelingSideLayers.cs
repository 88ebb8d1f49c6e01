using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Heads;

/// <summary>
/// Token Labeling's "side layers" (TokenLabeling, seg/mmseg/models/backbones/vit.py, <c>use_side_layer=True</c>, UperNet
/// mode; docs/papers/token-labeling.md §1.9): they turn four ViT patch maps of one resolution (stride 16) into the pyramid
/// UperNet expects, each a Sequential of bias-free convs, BN and ReLU:
/// <list type="bullet">
/// <item><c>side_layer1</c>: ConvTranspose2d k4 s4 (×4 → stride 4), BN, ReLU, 1×1 conv, BN, ReLU;</item>
/// <item><c>side_layer2</c>: ConvTranspose2d k2 s2 (×2 → stride 8), BN, ReLU, 1×1 conv, BN, ReLU;</item>
/// <item><c>side_layer3</c>: 1×1 conv, BN, ReLU (stride 16);</item>
/// <item><c>side_layer4</c>: 1×1 conv to <c>out_channels</c> (2048 in the configs), BN, ReLU (stride 16, no pooling).</item>
/// </list>
/// Keys as the released checkpoints hold them under <c>backbone.</c>: <c>side_layer1.0.weight</c>, <c>side_layer1.1.*</c>
/// (BN), <c>side_layer1.3.weight</c>, <c>side_layer1.4.*</c>; the ReLUs (indices 2, 5) hold nothing. The repository builds
/// them with SyncBatchNorm and PyTorch's default conv init.
/// </summary>
public sealed class TokenLabelingSideLayers : Module
{
    private readonly Sequential[] _layers;

    /// <summary>Side layers for patch maps of width <paramref name="embedDim"/>; the last one widens to <paramref name="outChannels"/>.</summary>
    public TokenLabelingSideLayers(int embedDim, int outChannels = 2048, Device? device = null)
    {
        if (embedDim <= 0 || outChannels <= 0) throw new ArgumentException($"TokenLabelingSideLayers: invalid widths (embed {embedDim}, out {outChannels})");
        (EmbedDim, OutChannels) = (embedDim, outChannels);
        _layers =
        [
            Register("side_layer1", Up(4)),
            Register("side_layer2", Up(2)),
            Register("side_layer3", Pointwise(embedDim)),
            Register("side_layer4", Pointwise(outChannels)),
        ];

        Sequential Up(int factor) => new(
            new ConvTranspose2d(embedDim, embedDim, factor, stride: factor, bias: false, device: device), new BatchNorm2d(embedDim, device: device), new Relu(),
            new Conv2d(embedDim, embedDim, 1, bias: false, device: device), new BatchNorm2d(embedDim, device: device), new Relu());

        Sequential Pointwise(int width) => new(
            new Conv2d(embedDim, width, 1, bias: false, device: device), new BatchNorm2d(width, device: device), new Relu());
    }

    /// <summary>Width of the input maps.</summary>
    public int EmbedDim { get; }

    /// <summary>Width of the last output map.</summary>
    public int OutChannels { get; }

    /// <summary>Channels of the four outputs: [D, D, D, out].</summary>
    public int[] OutputChannels => [EmbedDim, EmbedDim, EmbedDim, OutChannels];

    /// <summary>Four maps [B, D, h, w] → [B, D, 4h, 4w], [B, D, 2h, 2w], [B, D, h, w], [B, out, h, w].</summary>
    public Tensor[] Forward(IReadOnlyList<Tensor> maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        if (maps.Count != 4) throw new ArgumentException($"TokenLabelingSideLayers: expected 4 patch maps (probe.layers with 4 blocks), got {maps.Count}");
        return [.. maps.Select((m, i) => _layers[i].Forward(m))];
    }
}
