using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Training.Checkpoints.Released;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Metrics;
using Reproduce.Vision.Models;
using Reproduce.Vision.Models.Heads;

namespace Reproduce.Training.Probes;

/// <summary>
/// Evaluation of a released head without training (<c>probe.head_weights</c>, <c>reproduce probe seg|depth --head-weights FILE</c>):
/// the head is built to the file's shapes (<see cref="HeadWeights"/>) on the frozen backbone's blocks <c>probe.layers</c>
/// and scored exactly as a trained probe is (<see cref="SegmentationProbe.Evaluate"/>, <see cref="DepthProbe.Evaluate"/>:
/// whole or slide inference, mmseg mIoU / BTS depth metrics; images loaded by <c>data.workers</c> threads and, under
/// <c>reproduce launch</c>, sharded over the ranks with the totals summed).
/// </summary>
public static class ReleasedHeadEval
{
    /// <summary>The segmentation metrics of the head in <paramref name="headFile"/> on <paramref name="val"/> (<paramref name="classes"/> classes).</summary>
    public static JsonObject Segmentation(VisionTransformer backbone, string headFile, ProbeOptions options, IImageDataset<SegmentationSample> val, int classes, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(val);
        ArgumentNullException.ThrowIfNull(log);
        var (blocks, size, stride) = Setup(backbone, options, ProbeLayerIndices.Segmentation);
        var ignored = new List<string>();
        using var head = HeadWeights.Segmentation(headFile, options.UperNet is not null, backbone.Config.EmbedDim, blocks.Length, Device(backbone), ignored);
        var headClasses = head switch
        {
            LinearSegmentationHead l => l.NumClasses,
            UperNetHead u => (int)u.DecodeHead.ConvSeg.Weight.Size(0),
            _ => classes,
        };
        if (headClasses != classes)
            throw new InvalidDataException($"head weights file '{headFile}' predicts {headClasses} classes, the dataset {val.Name} has {classes} (probe.num_classes)");
        Report(log, headFile, blocks, ignored);
        var final = SegmentationProbe.Evaluate(backbone, head, val, blocks, size, classes, options.MaxEvalImages, stride, options.Workers, options.Parallel,
            options.TestAugmentation).ToJson();
        final["head_weights"] = headFile;
        final["head"] = SegmentationHeads.Name(null, options.UperNet);
        return final;
    }

    /// <summary>The depth metrics of the head in <paramref name="headFile"/> on <paramref name="val"/>, bins over the range of <paramref name="eval"/>.</summary>
    public static JsonObject Depth(VisionTransformer backbone, string headFile, ProbeOptions options, IImageDataset<DepthSample> val, DepthEvalOptions eval, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(val);
        ArgumentNullException.ThrowIfNull(eval);
        ArgumentNullException.ThrowIfNull(log);
        if (options.Fcn is not null || options.UperNet is not null) throw new ArgumentException("probe depth: released depth heads are DINOv2's linear heads (probe.head=linear)");
        if (options.TestAugmentation is not null) throw new ArgumentException("probe depth: the multi-scale + flip test (probe.test_scales, probe.test_flip) is implemented for segmentation only");
        var (blocks, size, stride) = Setup(backbone, options, ProbeLayerIndices.Depth);
        var ignored = new List<string>();
        using var head = HeadWeights.Depth(headFile, backbone.Config.EmbedDim, blocks.Length, eval.MinDepth, eval.MaxDepth, Device(backbone), ignored);
        Report(log, headFile, blocks, ignored);
        var final = DepthProbe.Evaluate(backbone, head, val, blocks, size, eval, options.MaxEvalImages, stride, options.Workers, options.Parallel).ToJson();
        final["head_weights"] = headFile;
        final["bins"] = head.NumBins;
        return final;
    }

    private static (int[] Blocks, int Size, int? Stride) Setup(VisionTransformer backbone, ProbeOptions options, Func<ProbeLayers, int, int[]> fromLayers)
    {
        options.Validate();
        ProbeInputs.Freeze(backbone);
        var blocks = options.ResolveBlocks(backbone.Config.Depth, fromLayers);
        var size = ProbeInputs.InputSize(backbone, options);
        return (blocks, size, options.Slide ? options.ResolveStride(size) : null);
    }

    private static Device Device(VisionTransformer backbone) => backbone.Parameters().First().Device;

    private static void Report(Action<string> log, string headFile, int[] blocks, List<string> ignored)
    {
        log($"released head {headFile} on blocks [{string.Join(", ", blocks)}], no training");
        foreach (var i in ignored) log($"  not part of the head: {i}");
    }
}
