using Reproduce.Vision.Models.Heads;

namespace Reproduce.Training.Probes;

/// <summary>
/// Training settings shared by the dense linear probes (<see cref="SegmentationProbe"/>, <see cref="DepthProbe"/>).
/// Defaults follow the DINOv2-style "lin." recipe where it is known (docs/protocols/dense-probes.md §5.1: AdamW lr 1e-3, wd 1e-4, linear
/// warm-up then poly power 1.0 to 0) at a step count meant for the CPU profiles; the full recipe (40k iterations, warm-up
/// 1,500, batch 16) is a matter of overriding <see cref="Steps"/>, <see cref="WarmupSteps"/> and <see cref="BatchSize"/>.
/// </summary>
public sealed record ProbeOptions
{
    /// <summary>lin1 (last block) or lin4 (<see cref="ProbeLayerIndices"/>).</summary>
    public ProbeLayers Layers { get; init; } = ProbeLayers.Lin1;
    /// <summary>
    /// Explicit backbone blocks (0-based; negative counts from the end, −1 = last) instead of <see cref="Layers"/>'s
    /// DINOv2 choice; null = use <see cref="Layers"/>.
    /// </summary>
    public IReadOnlyList<int>? Blocks { get; init; }
    /// <summary>Optimizer steps.</summary>
    public int Steps { get; init; } = 200;
    /// <summary>Images per step.</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>AdamW peak learning rate.</summary>
    public double Lr { get; init; } = 1e-3;
    /// <summary>AdamW (decoupled) weight decay.</summary>
    public double WeightDecay { get; init; } = 1e-4;
    /// <summary>Linear warm-up steps from lr·1e-6 (mmseg's warmup_ratio), then poly decay.</summary>
    public int WarmupSteps { get; init; }
    /// <summary>Poly power (1.0 in the DINOv2-style configs).</summary>
    public double PolyPower { get; init; } = 1.0;
    /// <summary>Probability of a horizontal flip of a training image (and its labels).</summary>
    public double FlipProb { get; init; } = 0.5;
    /// <summary>
    /// Side of the square the backbone sees; null = the backbone's <c>img_size</c>. Images are resized (bilinear) to it,
    /// training labels too (nearest); at evaluation the head's output is resized back to the ground truth's own size.
    /// (DINOv2 center-pads to a multiple of the patch size instead; a fixed-size backbone needs its own size here.)
    /// </summary>
    public int? InputSize { get; init; }
    /// <summary>Seed of the head's init (the global torch generator) and of the sampling order and flips.</summary>
    public int Seed { get; init; }
    /// <summary>
    /// Train the backbone together with the head (supervised dense training, not a probe). Off for every probe; on only
    /// to produce a trained backbone from a segmentation split (<c>probe.train_backbone</c>), whose weights are then probed
    /// frozen with a fresh head. The backbone then gets AdamW with timm's weight-decay exclusions.
    /// </summary>
    public bool TrainBackbone { get; init; }
    /// <summary>With <see cref="TrainBackbone"/>: the backbone groups' lr scale (mmseg backbone <c>lr_mult</c>); 1 = the head's lr.</summary>
    public double BackboneLrMult { get; init; } = 1.0;
    /// <summary>Use at most this many validation images (null = all).</summary>
    public int? MaxEvalImages { get; init; }
    /// <summary>
    /// mmseg's crop protocol instead of the whole-image resize: training takes random <see cref="InputSize"/>-side crops
    /// of each image at its own scale (<see cref="ProbeInputs.RandomCrop"/>), and evaluation slides windows of that side
    /// with <see cref="Stride"/> over the image at its own scale, averaging the overlapping outputs
    /// (<see cref="SlideInference"/>; docs/protocols.md §2.3). Off: mmseg's "whole" mode on the image resized to the square input.
    /// </summary>
    public bool Slide { get; init; }
    /// <summary>
    /// The segmentation head: null = DINOv2's linear head (BN + 1×1 conv); set = mmseg's FCN decode head with these
    /// settings (<c>probe.head=fcn</c>; segmentation only — <see cref="DepthProbe"/> refuses it).
    /// </summary>
    public FcnOptions? Fcn { get; init; }
    /// <summary>
    /// Set: the segmentation head is Token Labeling's UperNet (<see cref="UperNetHead"/>, <c>probe.head=upernet</c>) with
    /// these settings, on exactly four blocks; segmentation only. Exclusive with <see cref="Fcn"/>.
    /// </summary>
    public UperNetOptions? UperNet { get; init; }
    /// <summary>Stride of the sliding windows; null = ⌊2/3⌋ of the window (341 for 512, as the ViT ADE20K configs).</summary>
    public int? Stride { get; init; }
    /// <summary>
    /// Segmentation evaluation: mmseg's multi-scale + flip test (<see cref="TestTimeAugmentation"/>; ratios other than 1
    /// need <see cref="Slide"/>; the base scale is <see cref="TestTimeAugmentation.Scale"/>, else the image's own size);
    /// null = the single-scale evaluation at the image's own size.
    /// </summary>
    public TestTimeAugmentation? TestAugmentation { get; init; }

    /// <summary>
    /// Threads that build the batches off the training thread (<c>data.workers</c>; 0 = on it). Training batches come
    /// from one sequential random stream (order, flips, crops), so they are built one after the other by one thread
    /// ahead of the steps; evaluation images are loaded by up to this many threads. The results do not depend on it.
    /// </summary>
    public int Workers { get; init; }
    /// <summary>
    /// Under <c>reproduce launch</c>: the job. Each rank takes every W-th sample of the W × <see cref="BatchSize"/>
    /// global batch, the head's gradients are averaged over ranks, evaluation is sharded and its totals summed; null = alone.
    /// </summary>
    public Train.Distributed.DataParallel? Parallel { get; init; }

    /// <summary>Throws on settings that cannot run.</summary>
    public ProbeOptions Validate()
    {
        if (Steps < 1) throw new ArgumentException($"probe: steps must be ≥ 1 (got {Steps})");
        if (BatchSize < 1) throw new ArgumentException($"probe: batch size must be ≥ 1 (got {BatchSize})");
        if (!(Lr > 0)) throw new ArgumentException($"probe: lr must be positive (got {Lr})");
        if (WeightDecay < 0) throw new ArgumentException($"probe: weight decay must be ≥ 0 (got {WeightDecay})");
        if (WarmupSteps < 0 || WarmupSteps >= Steps) throw new ArgumentException($"probe: warm-up steps must be in [0, steps) (got {WarmupSteps} of {Steps})");
        if (FlipProb is < 0 or > 1) throw new ArgumentException($"probe: flip probability {FlipProb} outside [0, 1]");
        if (InputSize is <= 0) throw new ArgumentException($"probe: input size must be positive (got {InputSize})");
        if (MaxEvalImages is <= 0) throw new ArgumentException($"probe: max eval images must be positive (got {MaxEvalImages})");
        if (Blocks is { Count: 0 }) throw new ArgumentException("probe: the block list is empty");
        if (Fcn is { } fcn && (fcn.Channels is <= 0 || fcn.NumConvs < 0 || fcn.Dropout is < 0 or >= 1))
            throw new ArgumentException($"probe: invalid FCN head settings {fcn}");
        if (Fcn is not null && UperNet is not null) throw new ArgumentException("probe: choose one segmentation head (FCN or UperNet), not both");
        if (UperNet is { } u && (u.Channels <= 0 || u.NeckChannels <= 0 || u.AuxChannels <= 0 || u.AuxWeight < 0 || u.Dropout is < 0 or >= 1))
            throw new ArgumentException($"probe: invalid UperNet head settings {u}");
        if (Stride is <= 0) throw new ArgumentException($"probe: the slide stride must be positive (got {Stride})");
        if (TestAugmentation is { } tta)
        {
            if (tta.Ratios.Count == 0 || tta.Ratios.Any(r => !(r > 0) || !double.IsFinite(r)))
                throw new ArgumentException($"probe: test-time ratios must be positive (got [{string.Join(", ", tta.Ratios)}]; probe.test_scales)");
            if (!Slide && tta.Ratios.Any(r => r != 1.0))
                throw new ArgumentException("probe: test-time ratios other than 1 need slide inference (probe.test_scales needs probe.slide=true)");
            if (tta.Scale is { } scale && (scale.Long < 1 || scale.Short < 1))
                throw new ArgumentException($"probe: the test scale ({scale.Long}, {scale.Short}) must be positive (probe.test_scale)");
            if (!Slide && tta.Scale is not null)
                throw new ArgumentException("probe: a test scale needs slide inference (probe.test_scale needs probe.slide=true)");
        }
        return this;
    }

    /// <summary>The slide stride for windows of side <paramref name="crop"/>: <see cref="Stride"/>, else ⌊2·crop/3⌋ (at least 1).</summary>
    public int ResolveStride(int crop)
    {
        var stride = Stride ?? Math.Max(1, 2 * crop / 3);
        if (stride > crop) throw new ArgumentException($"probe: the slide stride {stride} exceeds the window {crop} (probe.stride ≤ probe.crop_size), which would leave pixels unscored");
        return stride;
    }

    /// <summary>The blocks to read from a <paramref name="depth"/>-block backbone: <see cref="Blocks"/> resolved, else <paramref name="fromLayers"/>.</summary>
    public int[] ResolveBlocks(int depth, Func<ProbeLayers, int, int[]> fromLayers)
    {
        ArgumentNullException.ThrowIfNull(fromLayers);
        if (Blocks is null) return fromLayers(Layers, depth);
        var resolved = Blocks.Select(b => b < 0 ? depth + b : b).ToArray();
        var bad = resolved.Where(b => b < 0 || b >= depth).ToArray();
        if (bad.Length > 0) throw new ArgumentException($"probe: blocks [{string.Join(", ", Blocks)}] fall outside a {depth}-block backbone");
        if (resolved.Distinct().Count() != resolved.Length) throw new ArgumentException($"probe: blocks [{string.Join(", ", Blocks)}] repeat a block");
        return resolved;
    }
}

/// <summary>One logged probe training step.</summary>
/// <param name="Step">0-based step.</param>
/// <param name="Loss">Loss of the step's batch.</param>
/// <param name="Lr">Learning rate used.</param>
public readonly record struct ProbeStep(int Step, double Loss, double Lr);
