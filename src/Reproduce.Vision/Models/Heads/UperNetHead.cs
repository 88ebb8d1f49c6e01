using Reproduce.Torch;

namespace Reproduce.Vision.Models.Heads;

/// <summary>Settings of the UperNet head (<c>probe.head=upernet</c>), named as Token Labeling's mmseg configs.</summary>
/// <param name="Channels">UPerHead <c>channels</c> (Token Labeling S/M 256, L 512; mmseg's ViT UperNet configs 512).</param>
/// <param name="NeckChannels">Width of the last side layer (<c>out_channels</c>, 2048 in every Token Labeling config).</param>
/// <param name="AuxChannels">Auxiliary FCN head channels (256 in the S/M configs, 512 in L).</param>
/// <param name="AuxWeight">Weight of the auxiliary head's cross-entropy (<c>loss_weight</c> 0.4); 0 drops the head.</param>
/// <param name="Dropout">Dropout2d of both heads (<c>dropout_ratio</c> 0.1).</param>
public sealed record UperNetOptions(int Channels = 512, int NeckChannels = 2048, int AuxChannels = 256, double AuxWeight = 0.4, double Dropout = 0.1);

/// <summary>
/// Token Labeling's ADE20K segmenter minus its transformer (docs/papers/token-labeling.md §1.9): the four chosen blocks'
/// patch maps go through <see cref="TokenLabelingSideLayers"/> into mmseg's <see cref="UperHead"/> (logits at stride 4,
/// bilinearly resized to the label size), with mmseg's auxiliary <see cref="FcnHead"/> (one 3×3 conv-BN-ReLU, no
/// concat_input) on the third pyramid level in training. Loss = CE(decode) + <see cref="UperNetOptions.AuxWeight"/> ·
/// CE(auxiliary), each on logits upsampled to the labels (mmseg's <c>losses</c>). Children are named so that the state
/// dict's keys are those of the released mmseg checkpoints: <c>backbone.side_layer{1..4}.*</c>, <c>decode_head.*</c>,
/// <c>auxiliary_head.*</c> (the checkpoint's other <c>backbone.*</c> keys are the ViT's).
/// </summary>
public sealed class UperNetHead : SegmentationDecodeHead
{
    /// <summary>The side layers (key prefix <c>backbone.</c>).</summary>
    public TokenLabelingSideLayers SideLayers { get; }
    /// <summary>The decode head (key prefix <c>decode_head.</c>).</summary>
    public UperHead DecodeHead { get; }
    /// <summary>The auxiliary head on pyramid level 3 (key prefix <c>auxiliary_head.</c>), or null when its weight is 0.</summary>
    public FcnHead? AuxiliaryHead { get; }
    /// <summary>The settings.</summary>
    public UperNetOptions Options { get; }

    /// <summary>Creates the head for patch maps of width <paramref name="embedDim"/>.</summary>
    public UperNetHead(int embedDim, int numClasses, UperNetOptions? options = null, Device? device = null)
    {
        Options = options ?? new UperNetOptions();
        if (Options.AuxWeight < 0) throw new ArgumentException($"UperNetHead: auxiliary loss weight {Options.AuxWeight} is negative");
        SideLayers = Register("backbone", new TokenLabelingSideLayers(embedDim, Options.NeckChannels, device));
        DecodeHead = Register("decode_head", new UperHead(SideLayers.OutputChannels, Options.Channels, numClasses, dropoutRatio: Options.Dropout, device: device));
        AuxiliaryHead = Options.AuxWeight > 0
            ? Register("auxiliary_head", new FcnHead(embedDim, Options.AuxChannels, numClasses, numConvs: 1, concatInput: false, dropoutRatio: Options.Dropout, device: device))
            : null;
    }

    /// <summary>The pyramid of the four maps' patch maps (finest first).</summary>
    public Tensor[] Pyramid(IReadOnlyList<IntermediateLayer> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        return SideLayers.Forward([.. layers.Select(l => l.Patches)]);
    }

    /// <inheritdoc/>
    public override Tensor Forward(IReadOnlyList<IntermediateLayer> layers, long height, long width)
    {
        using var s = Scope.Enter();
        return s.MoveOut(DecodeHeads.Resize(DecodeHead.Forward(Pyramid(layers)), height, width));
    }

    /// <summary>The auxiliary head's logits at its own resolution (stride 16), or null without it.</summary>
    public Tensor? AuxiliaryLogits(Tensor[] pyramid) => AuxiliaryHead?.ForwardLogits(pyramid[2]);

    /// <inheritdoc/>
    public override Tensor Loss(IReadOnlyList<IntermediateLayer> layers, Tensor labels, long height, long width, long ignoreIndex)
    {
        using var s = Scope.Enter();
        var pyramid = Pyramid(layers);
        var loss = F.CrossEntropy(DecodeHeads.Resize(DecodeHead.Forward(pyramid), height, width), labels, ignoreIndex: ignoreIndex);
        if (AuxiliaryLogits(pyramid) is { } aux)
            loss = loss.Add(F.CrossEntropy(DecodeHeads.Resize(aux, height, width), labels, ignoreIndex: ignoreIndex).Mul(Options.AuxWeight));
        return s.MoveOut(loss);
    }
}
