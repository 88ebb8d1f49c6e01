using Reproduce.Torch;
using Reproduce.Torch.Optim;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Metrics;
using Reproduce.Vision.Models;
using Reproduce.Vision.Models.Heads;

namespace Reproduce.Training.Probes;

/// <summary>Depth-specific probe settings.</summary>
/// <param name="Eval">Valid range, prediction clamp and crop of the metrics (<see cref="DepthEvalOptions.Nyu"/>: (1e-3, 10) m
/// with the Eigen crop, which is defined only for 480×640 GT; <see cref="DepthEvalOptions.Kitti"/>: (1e-3, 80) m with the Garg
/// crop). Fashion-scenes' stand-ins are smaller than 480×640, so their NYU-layout tree is scored with the range only
/// (crop None); the Garg crop is fractional and applies at any size.</param>
/// <param name="LossWeight">SigLoss weight w (1 as DINOv2's SigLoss class and the NYU linear config; its decode head default is 10).</param>
/// <param name="WarmUpSteps">SigLoss warm-up steps (mean term only; DINOv2: 100 when warm-up is on).</param>
public sealed record DepthProbeSettings(DepthEvalOptions Eval, double LossWeight = 1, int WarmUpSteps = 0);

/// <summary>The outcome of a depth probe.</summary>
/// <param name="Metrics">BTS metrics, per image then averaged over images.</param>
/// <param name="FinalLoss">Mean SigLoss of the last 10 % of the training steps.</param>
/// <param name="Head">The trained head (owned by the caller).</param>
public sealed record DepthProbeResult(DepthResult Metrics, double FinalLoss, LinearDepthHead Head);

/// <summary>
/// DINOv2's linear depth probe on a frozen ViT (docs/protocols/dense-probes.md §5.2): for the chosen blocks (lin1: last; lin4: DINOv2's
/// out_index) the class token is concatenated to every patch feature, the maps are upsampled ×4 and a 1×1 conv gives 256
/// uniform bin logits over [min, max]; depth = Σ_k p_k·b_k with p = (ReLU(l) + 0.1) normalised
/// (<see cref="LinearDepthHead"/>). The prediction is bilinearly resized to the (resized) GT and trained with
/// <see cref="SigLoss"/> on pixels with 0 &lt; gt ≤ max; AdamW with linear warm-up + poly decay (the third-party NYU config
/// uses a cosine schedule and adds a gradient loss; neither is used here). Evaluation clamps to [min, max], resizes the
/// prediction to the GT's own size and scores <see cref="DepthMetric"/> (BTS: per image over valid pixels, then averaged
/// over images; no median scaling).
/// </summary>
public static class DepthProbe
{
    /// <summary>Trains the head on <paramref name="train"/> and scores it on <paramref name="val"/>.</summary>
    public static DepthProbeResult Run(VisionTransformer backbone, IImageDataset<DepthSample> train, IImageDataset<DepthSample> val,
        DepthProbeSettings settings, ProbeOptions options, Action<ProbeStep>? onStep = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(val);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Fcn is not null) throw new ArgumentException("DepthProbe: the FCN head (probe.head=fcn) is implemented for segmentation only");
        if (options.UperNet is not null) throw new ArgumentException("DepthProbe: the UperNet head (probe.head=upernet) is implemented for segmentation only");
        settings.Eval.Validate();
        if (val.Count == 0) throw new ArgumentException($"DepthProbe: the validation split {val.Name} is empty");
        ProbeInputs.Freeze(backbone);
        var blocks = options.ResolveBlocks(backbone.Config.Depth, ProbeLayerIndices.Depth);
        var size = ProbeInputs.InputSize(backbone, options);
        var stride = options.Slide ? options.ResolveStride(size) : (int?)null; // checked before any training
        Torch.Torch.ManualSeed((ulong)options.Seed);
        var device = backbone.Parameters().First().Device;
        var head = new LinearDepthHead(backbone.Config.EmbedDim, blocks.Length, settings.Eval.MinDepth, settings.Eval.MaxDepth, device: device);
        try
        {
            var loss = new SigLoss(settings.LossWeight, settings.Eval.MaxDepth, settings.WarmUpSteps);
            var finalLoss = Train(backbone, head, train, blocks, size, options, loss, device, onStep);
            options.Parallel?.BroadcastBuffers(head); // one set of BatchNorm statistics scores every shard
            return new DepthProbeResult(Evaluate(backbone, head, val, blocks, size, settings.Eval, options.MaxEvalImages, stride, options.Workers, options.Parallel),
                finalLoss, head);
        }
        catch
        {
            head.Dispose();
            throw;
        }
    }

    private static double Train(VisionTransformer backbone, LinearDepthHead head, IImageDataset<DepthSample> train, int[] blocks, int size,
        ProbeOptions options, SigLoss sigLoss, Device device, Action<ProbeStep>? onStep)
    {
        using var batches = ProbeParallel.TrainBatches(train, options, size, t => t.Image, d => d.Depth, mapPad: 0);
        using var optimizer = new AdamW(head.Parameters(), options.Lr, options.WeightDecay);
        using var ddp = ProbeParallel.Start(options, head);
        head.Train();
        return ProbeLoop.Run("DepthProbe", options, optimizer, step =>
        {
            var (images, depths, _) = batches.Take(step).Adopt();
            var x = images.To(device);
            var gt = depths.To(device, ScalarType.Float32);
            var features = ProbeInputs.Features(backbone, x, blocks);
            var prediction = F.Interpolate(head.Forward(features), [size, size], mode: InterpolationMode.Bilinear).Squeeze(1);
            return sigLoss.Forward(prediction, gt);
        }, "divergence; lower the lr", onStep, ddp);
    }

    /// <summary>
    /// Scores <paramref name="head"/> on <paramref name="val"/>, one image at a time, at the GT's own size: whole mode
    /// (<paramref name="slideStride"/> null) on the image resized to <paramref name="size"/>, or slide mode, where the
    /// clamped depth of overlapping <paramref name="size"/>-side windows over the image at its own size is averaged
    /// (DINOv2's depther slide mode) and then resized to the GT if it differs. <paramref name="workers"/> threads load the
    /// images ahead; with <paramref name="dp"/> each rank scores its share and the totals are summed over ranks.
    /// </summary>
    public static DepthResult Evaluate(VisionTransformer backbone, LinearDepthHead head, IImageDataset<DepthSample> val,
        IReadOnlyList<int> blocks, int size, DepthEvalOptions evalOptions, int? maxImages = null, int? slideStride = null, int workers = 0,
        Train.Distributed.DataParallel? dp = null)
    {
        var metric = new DepthMetric(evalOptions);
        ProbeInputs.EvaluateEach(backbone, head, val, blocks, size, slideStride, maxImages, sample => (sample.Image, sample.Depth),
            (features, h, w) => head.Predict(features, h, w), (prediction, depth) => metric.Update(prediction.Squeeze(0).Squeeze(0), depth), workers, dp);
        return ProbeParallel.Merge(metric, dp).Result();
    }
}
