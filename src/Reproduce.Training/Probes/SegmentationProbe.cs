using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Metrics;
using Reproduce.Vision.Models;
using Reproduce.Vision.Models.Heads;

namespace Reproduce.Training.Probes;

/// <summary>The outcome of a segmentation probe.</summary>
/// <param name="Metrics">mIoU, aAcc, mAcc and per-class IoU over the validation split (mmseg conventions).</param>
/// <param name="FinalLoss">Mean cross-entropy of the last 10 % of the training steps.</param>
/// <param name="Head">The trained head (owned by the caller): a <see cref="LinearSegmentationHead"/>, or an
/// <see cref="FcnHead"/> with <see cref="ProbeOptions.Fcn"/>.</param>
public sealed record SegmentationProbeResult(SegmentationResult Metrics, double FinalLoss, SegmentationDecodeHead Head);

/// <summary>
/// DINOv2's linear segmentation probe on a frozen ViT (docs/protocols/dense-probes.md §5.1): the patch tokens of the chosen blocks
/// (<see cref="VisionTransformer.GetIntermediateLayers(Tensor, IReadOnlyList{int}, bool)"/>, norm = False) feed a
/// <see cref="LinearSegmentationHead"/> (BN + 1×1 conv), whose logits are bilinearly upsampled to the label size and
/// trained with the pixel-mean cross-entropy L = −(1/|V|) Σ_{i∈V} log softmax(zᵢ)[yᵢ] over the pixels V whose label is
/// not 255 (ignore_index), with AdamW and linear warm-up + poly decay. Evaluation runs the whole (resized) image once
/// (mmseg's "whole" mode) or slides windows over it (<see cref="ProbeOptions.Slide"/>), upsamples the logits to the ground truth's own size, takes
/// the argmax, and accumulates <see cref="SegmentationMetric"/> over the split: per class IoU_c = ΣI_c / ΣU_c summed over
/// the dataset, mIoU = nanmean_c IoU_c, aAcc = ΣI / Σ|GT|, mAcc = nanmean_c ΣI_c / Σ|GT_c| (mmseg). Labels arrive
/// already reduced (ADE20K's reduce_zero_label is applied by the <see cref="Ade20k"/> reader: 0 → 255, c → c − 1).
/// Training augmentation is a resize to the backbone's square input (whole mode) or a random crop of that side at the
/// image's own scale (slide mode), and a horizontal flip — not mmseg's random resize/photometric pipeline.
/// With <see cref="ProbeOptions.Fcn"/> the head is mmseg's <see cref="FcnHead"/> instead (a decode head for fine-tuning,
/// usually with <see cref="ProbeOptions.TrainBackbone"/>); everything else — features, loss, upsampling, evaluation — is
/// the same (<see cref="SegmentationHeads"/>).
/// </summary>
public static class SegmentationProbe
{
    /// <summary>Trains the head on <paramref name="train"/> and scores it on <paramref name="val"/>.</summary>
    /// <param name="backbone">The ViT, frozen here (eval mode, no parameter gradients).</param>
    /// <param name="train">Training images with reduced labels (classes 0..C−1, 255 ignored).</param>
    /// <param name="val">Validation images, labels as in <paramref name="train"/>.</param>
    /// <param name="numClasses">C.</param>
    /// <param name="options">Recipe.</param>
    /// <param name="onStep">Called after every step (logging).</param>
    public static SegmentationProbeResult Run(VisionTransformer backbone, IImageDataset<SegmentationSample> train,
        IImageDataset<SegmentationSample> val, int numClasses, ProbeOptions options, Action<ProbeStep>? onStep = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(val);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (numClasses < 1) throw new ArgumentException($"SegmentationProbe: {numClasses} classes");
        if (val.Count == 0) throw new ArgumentException($"SegmentationProbe: the validation split {val.Name} is empty");
        if (options.TrainBackbone) backbone.Train();
        else ProbeInputs.Freeze(backbone);
        var blocks = options.ResolveBlocks(backbone.Config.Depth, ProbeLayerIndices.Segmentation);
        var size = ProbeInputs.InputSize(backbone, options);
        var stride = options.Slide ? options.ResolveStride(size) : (int?)null; // checked before any training
        Torch.Torch.ManualSeed((ulong)options.Seed);
        var device = backbone.Parameters().First().Device;
        var head = SegmentationHeads.Create(options.Fcn, backbone.Config.EmbedDim, blocks.Length, numClasses, device, options.UperNet);
        try
        {
            var finalLoss = Train(backbone, head, train, blocks, size, options, device, onStep);
            options.Parallel?.BroadcastBuffers(head); // one set of BatchNorm statistics scores every shard
            return new SegmentationProbeResult(Evaluate(backbone, head, val, blocks, size, numClasses, options.MaxEvalImages, stride, options.Workers, options.Parallel,
                    options.TestAugmentation),
                finalLoss, head);
        }
        catch
        {
            head.Dispose();
            throw;
        }
    }

    private static double Train(VisionTransformer backbone, SegmentationDecodeHead head, IImageDataset<SegmentationSample> train,
        int[] blocks, int size, ProbeOptions options, Device device, Action<ProbeStep>? onStep)
    {
        using var batches = ProbeParallel.TrainBatches(train, options, size, t => t.Image, l => l.Label, SegmentationSample.IgnoreIndex);
        var groups = new List<ParamGroup> { new(head.Parameters(), weightDecay: options.WeightDecay) };
        if (options.TrainBackbone)
            foreach (var g in ParamGroups.WeightDecayExclusion(backbone, options.WeightDecay))
            {
                g.LrScale = options.BackboneLrMult; // the schedule sets lr = base · LrScale each step
                groups.Add(g);
            }
        using var optimizer = new AdamW(groups, options.Lr, options.WeightDecay);
        using var ddp = options.TrainBackbone ? ProbeParallel.Start(options, head, backbone) : ProbeParallel.Start(options, head);
        head.Train();
        return ProbeLoop.Run("SegmentationProbe", options, optimizer, step =>
        {
            var (images, labels, _) = batches.Take(step).Adopt();
            var x = images.To(device);
            var y = labels.To(device, ScalarType.Int64);
            var features = options.TrainBackbone ? backbone.GetIntermediateLayers(x, blocks) : ProbeInputs.Features(backbone, x, blocks);
            return head.Loss(features, y, size, size, SegmentationSample.IgnoreIndex);
        }, "a batch with every pixel ignored, or divergence; lower the lr", onStep, ddp);
    }

    /// <summary>
    /// Scores <paramref name="head"/> on <paramref name="val"/> one image at a time (mmseg's val batch 1), then argmax and
    /// dataset-level accumulation. Whole mode (<paramref name="slideStride"/> null): the image resized to the backbone's
    /// <paramref name="size"/>, logits upsampled to the label's size. Slide mode: <paramref name="size"/>-side windows
    /// every <paramref name="slideStride"/> pixels over the image at its own size, logits averaged where windows overlap
    /// (<see cref="SlideInference"/>), then resized to the label's size if it differs. <paramref name="head"/> is a
    /// <see cref="LinearSegmentationHead"/> or an <see cref="FcnHead"/>. <paramref name="workers"/> threads load the images
    /// ahead; with <paramref name="dp"/> each rank scores its share and the totals are summed over ranks. With
    /// <paramref name="augmentation"/>, mmseg's multi-scale + flip test: the argmax of the class probabilities averaged
    /// over the rescaled and flipped passes (<see cref="TestTimeAugmentation"/>).
    /// </summary>
    public static SegmentationResult Evaluate(VisionTransformer backbone, SegmentationDecodeHead head, IImageDataset<SegmentationSample> val,
        IReadOnlyList<int> blocks, int size, int numClasses, int? maxImages = null, int? slideStride = null, int workers = 0,
        Train.Distributed.DataParallel? dp = null, TestTimeAugmentation? augmentation = null)
    {
        var metric = new SegmentationMetric(numClasses, SegmentationSample.IgnoreIndex);
        ProbeInputs.EvaluateEach(backbone, head, val, blocks, size, slideStride, maxImages, sample => (sample.Image, sample.Label),
            (features, h, w) => head.Forward(features, h, w), (logits, label) => metric.Update(logits.Argmax(1).Squeeze(0), label), workers, dp, augmentation);
        return ProbeParallel.Merge(metric, dp).Result();
    }
}
