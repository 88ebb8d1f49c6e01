using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models;
using Reproduce.Vision.Models.Heads;

namespace Reproduce.Training.Probes;

/// <summary>
/// Settings of the FCN decode head (<c>probe.head=fcn</c>; mmseg <c>FCNHead</c>, kernel 3, <c>concat_input</c> on).
/// </summary>
/// <param name="Channels">Channels of the convs; null = the head's input width (the backbone width D for one block).
/// mmseg's ADE20K configs use 512 (decode) / 256 (auxiliary) on ResNets — far wider than a tiny ViT.</param>
/// <param name="NumConvs">Conv-BN-ReLU modules (mmseg default 2; 0 needs <paramref name="Channels"/> = the input width).</param>
/// <param name="Dropout">Dropout2d before <c>conv_seg</c> (mmseg default 0.1).</param>
public sealed record FcnOptions(int? Channels = null, int NumConvs = 2, double Dropout = 0.1);

/// <summary>
/// The decode heads a segmentation probe run can train, behind one constructor (the linear and FCN heads here, and
/// <see cref="UperNetHead"/> with <see cref="UperNetOptions"/>); all are
/// <see cref="SegmentationDecodeHead"/>s, so the training loop, whole/slide evaluation (<see cref="ProbeInputs.Predict"/>)
/// and upsampling are the same code for both.
/// </summary>
public static class SegmentationHeads
{
    /// <summary>
    /// A fresh head for <paramref name="blocks"/> maps of width <paramref name="embedDim"/>: the DINOv2 linear head
    /// (BN + 1×1 conv) when <paramref name="fcn"/> is null, else an <see cref="FcnHead"/> over the maps concatenated on
    /// channels (one block, the default <c>probe.layers=[-1]</c>, is mmseg's <c>in_index=-1</c>); with
    /// <paramref name="upernet"/> a <see cref="UperNetHead"/> over exactly four blocks.
    /// </summary>
    public static SegmentationDecodeHead Create(FcnOptions? fcn, int embedDim, int blocks, int numClasses, Device device, UperNetOptions? upernet = null)
    {
        if (upernet is not null)
            return blocks == 4
                ? new UperNetHead(embedDim, numClasses, upernet, device)
                : throw new ArgumentException($"probe: the UperNet head reads four blocks (probe.layers), got {blocks}");
        if (fcn is null) return new LinearSegmentationHead(Enumerable.Repeat(embedDim, blocks).ToArray(), numClasses, device: device);
        var inChannels = embedDim * blocks;
        return new FcnHead(inChannels, fcn.Channels ?? inChannels, numClasses, fcn.NumConvs, concatInput: true,
            dropoutRatio: fcn.Dropout, device: device);
    }

    /// <summary>The head's name in <c>final.json</c> and messages: <c>linear</c>, <c>fcn</c> or <c>upernet</c>.</summary>
    public static string Name(FcnOptions? fcn, UperNetOptions? upernet = null) => upernet is not null ? "upernet" : fcn is null ? "linear" : "fcn";
}
