using Reproduce.Vision.Metrics;

namespace Reproduce.Training.Config;

/// <summary>What a probe predicts.</summary>
public enum ProbeTask
{
    /// <summary>DINOv2's linear classification probe: a grid of linear heads on [CLS] (and pooled patch) features → top-1, top-5.</summary>
    Classification,
    /// <summary>Per-pixel classes (DINOv2 linear head with BN) → mIoU, aAcc, mAcc.</summary>
    Segmentation,
    /// <summary>Per-pixel depth (DINOv2 bins head, SigLoss) → BTS metrics.</summary>
    Depth,
}

/// <summary>The decode head of a segmentation probe run (<c>probe.head</c>).</summary>
public enum ProbeHead
{
    /// <summary>DINOv2's linear head: BN + 1×1 conv on the chosen blocks' patch tokens (the default, a probe proper).</summary>
    Linear,
    /// <summary>
    /// mmseg's FCN decode head (<c>FcnHead</c>: conv-BN-ReLU stack, conv_cat, Dropout2d, 1×1 conv_seg) on the last
    /// chosen block's patch map — Token Labeling's "LV-ViT-S + FCN" transfer head; segmentation only.
    /// </summary>
    Fcn,
    /// <summary>
    /// UperNet as Token Labeling's ADE20K configs build it: side layers to a four-level pyramid, mmseg's UPerHead (PPM +
    /// FPN) and an auxiliary FCN head (<c>UperNetHead</c>); needs four blocks in <c>probe.layers</c>; segmentation only.
    /// </summary>
    Upernet,
}

/// <summary>
/// Linear probes on a frozen backbone, following DINOv2's dense evaluation (docs/protocols/dense-probes.md §5): features of the
/// chosen blocks (norm=False), optionally with the class token, a 1×1 head; segmentation scored with mmseg
/// conventions, depth with BTS conventions. <c>task=classification</c> is DINOv2's linear evaluation
/// (docs/protocols/linear-classification.md §5.4): a grid of linear heads on the final-normed [CLS] tokens of the last
/// blocks (<see cref="NLastBlocks"/>, <see cref="Avgpool"/>, <see cref="Lrs"/>).
/// </summary>
public sealed record ProbeSection : IConfigSection
{
    /// <summary>classification | segmentation | depth.</summary>
    public ProbeTask Task { get; init; } = ProbeTask.Segmentation;
    /// <summary>Blocks whose outputs feed the head (negative counts from the end): [-1] is DINOv2 "lin. 1"; [2, 5, 8, 11] is "lin. 4" for 12 blocks.</summary>
    public IReadOnlyList<int> Layers { get; init; } = [-1];
    /// <summary>Concatenate the class token to every patch feature.</summary>
    public bool UseClsToken { get; init; } = true;
    /// <summary>BatchNorm before the 1×1 conv; null = DINOv2's choice (on for segmentation, off for depth).</summary>
    public bool? BatchNorm { get; init; }
    /// <summary>Classes of the segmentation head; null = the dataset's.</summary>
    public int? NumClasses { get; init; }
    /// <summary>Label ignored by the loss and the metric.</summary>
    public int IgnoreIndex { get; init; } = 255;
    /// <summary>mmseg reduce_zero_label (ADE20K: true).</summary>
    public bool ReduceZeroLabel { get; init; }
    /// <summary>Depth bins of the classification-style depth head (DINOv2: 256, uniform).</summary>
    public int NBins { get; init; } = 256;
    /// <summary>Depth range (metres): bins, clamping and the valid GT range.</summary>
    public double MinDepth { get; init; } = 1e-3;
    /// <summary>Depth range maximum (NYUv2 10, KITTI 80).</summary>
    public double MaxDepth { get; init; } = 10;
    /// <summary>Evaluation crop of the depth metrics.</summary>
    public DepthCrop DepthCrop { get; init; } = DepthCrop.None;
    /// <summary>Upsampling factor of the depth head's features (DINOv2: 4).</summary>
    public int Upsample { get; init; } = 4;
    /// <summary>
    /// Train the backbone with the head (supervised dense training, not a frozen probe): how <c>reproduce probe seg</c>
    /// produces a trained backbone (<c>backbone.safetensors</c> in the run directory) to probe afterwards.
    /// </summary>
    public bool TrainBackbone { get; init; }
    /// <summary>
    /// mmseg's crop protocol: random crops at the image's own scale in training, sliding-window inference (overlapping
    /// windows, logits averaged by coverage count) at evaluation; off = whole-image resize (Probes/SlideInference.cs).
    /// </summary>
    public bool Slide { get; init; }
    /// <summary>
    /// linear | fcn | upernet (the last two segmentation only). Omitted from the canonical config while linear, so the hashes of linear runs
    /// made before the key existed stay valid; the same holds for the three <c>fcn_*</c> keys at their defaults.
    /// </summary>
    [ConfigOmitWhenDefault]
    public ProbeHead Head { get; init; } = ProbeHead.Linear;
    /// <summary>
    /// Channels of the FCN head's convs (mmseg <c>channels</c>); null = the backbone width D. mmseg's ADE20K configs use
    /// 512 for FCN decode heads on ResNets and 256 for auxiliary heads — sizes for wide backbones, far above a tiny ViT's D.
    /// </summary>
    [ConfigOmitWhenDefault]
    public int? FcnChannels { get; init; }
    /// <summary>Conv-BN-ReLU modules of the FCN head (mmseg <c>num_convs</c>, default 2; 0 needs fcn_channels = D).</summary>
    [ConfigOmitWhenDefault]
    public int FcnNumConvs { get; init; } = 2;
    /// <summary>Dropout2d before the FCN head's classifier (mmseg <c>dropout_ratio</c>, default 0.1).</summary>
    [ConfigOmitWhenDefault]
    public double FcnDropout { get; init; } = 0.1;
    /// <summary>
    /// With <see cref="TrainBackbone"/>: the backbone's lr as a multiple of <c>optim.lr</c> (mmseg's
    /// <c>paramwise_cfg.custom_keys.backbone.lr_mult</c>; SETR-style configs give the decode head 10× the backbone's lr).
    /// 1 = one lr for all. Omitted from the canonical config while 1.
    /// </summary>
    [ConfigOmitWhenDefault]
    public double BackboneLrMult { get; init; } = 1.0;
    /// <summary>UperNet: UPerHead <c>channels</c> (Token Labeling's S/M configs 256, L 512; mmseg's ViT configs 512).</summary>
    [ConfigOmitWhenDefault]
    public int UpernetChannels { get; init; } = 512;
    /// <summary>UperNet: width of the last side layer (<c>out_channels</c>, 2048 in every Token Labeling config).</summary>
    [ConfigOmitWhenDefault]
    public int UpernetNeckChannels { get; init; } = 2048;
    /// <summary>UperNet: the auxiliary FCN head's channels (256 in Token Labeling's S/M configs, 512 in L).</summary>
    [ConfigOmitWhenDefault]
    public int UpernetAuxChannels { get; init; } = 256;
    /// <summary>UperNet: weight of the auxiliary head's cross-entropy (mmseg <c>loss_weight</c> 0.4; 0 drops the auxiliary head).</summary>
    [ConfigOmitWhenDefault]
    public double UpernetAuxWeight { get; init; } = 0.4;
    /// <summary>
    /// A released head to evaluate instead of training one (<c>reproduce probe … --head-weights FILE</c>): DINOv2's ADE20K
    /// linear or NYUv2/KITTI depth heads, Token Labeling's UperNet segmentors (with <c>probe.head=upernet</c>); the head's
    /// widths come from the file, <c>probe.layers</c> names the blocks it reads. No training step runs. A trained linear or
    /// UperNet probe run's own <c>head.safetensors</c> is read the same way (a re-evaluation). Omitted while null.
    /// </summary>
    [ConfigOmitWhenDefault]
    public string? HeadWeights { get; init; }
    /// <summary>
    /// Classification: the n of each head, whose features are the final-normed [CLS] tokens of the last n blocks
    /// concatenated (DINOv2 linear evaluation's <c>n_last_blocks_list</c>, [1, 4]); null = [1, 4]. Omitted while null.
    /// </summary>
    [ConfigOmitWhenDefault]
    public IReadOnlyList<int>? NLastBlocks { get; init; }
    /// <summary>
    /// Classification: whether each head also gets the average-pooled patch tokens of the last block (DINOv2 trains both,
    /// [false, true]); null = [false, true]. Omitted while null.
    /// </summary>
    [ConfigOmitWhenDefault]
    public IReadOnlyList<bool>? Avgpool { get; init; }
    /// <summary>
    /// Classification: the grid's base learning rates, one head per lr × n × avgpool; each head's SGD lr is
    /// base · (global batch) / 256 as DINOv2's <c>scale_lr</c>. null = [<c>optim.lr</c>]. Omitted while null.
    /// </summary>
    [ConfigOmitWhenDefault]
    public IReadOnlyList<double>? Lrs { get; init; }
    /// <summary>
    /// Segmentation evaluation: the ratios of mmseg's multi-scale test (<c>MultiScaleFlipAug</c> <c>img_ratios</c>, e.g.
    /// [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]); each rescales the image keeping its aspect ratio, relative to the single-scale
    /// input (with <c>probe.slide</c> the image at its own size), and the class probabilities of all passes are averaged
    /// (Probes/TestTimeAugmentation.cs). Ratios other than 1 need <c>probe.slide=true</c>. null = single scale. Omitted while null.
    /// </summary>
    [ConfigOmitWhenDefault]
    public IReadOnlyList<double>? TestScales { get; init; }
    /// <summary>
    /// Segmentation evaluation: also run every test scale horizontally flipped and average the flipped-back
    /// probabilities in (mmseg <c>flip=True</c>). Omitted while false.
    /// </summary>
    [ConfigOmitWhenDefault]
    public bool TestFlip { get; init; }
    /// <summary>
    /// Segmentation evaluation: the test scale [long, short] (mmseg's test <c>img_scale</c>; ADE20K configs (2048, 512),
    /// DINOv2's ms heads (99999999, 640)): every evaluation image is first rescaled keeping its aspect ratio by
    /// min(long / max(H, W), short / min(H, W)) (mmcv <c>imrescale</c>), and <c>probe.test_scales</c> multiply this scale
    /// instead of the image's own size; labels are never resized (the logits are resized back to the label). Needs
    /// <c>probe.slide=true</c> (whole mode resizes to the backbone's square input). null = the image's own size. Omitted while null.
    /// </summary>
    [ConfigOmitWhenDefault]
    public IReadOnlyList<int>? TestScale { get; init; }
    /// <summary>Slide window side; null = the backbone input (<c>data.img_size</c>, else the model's); must equal it for a fixed-size ViT.</summary>
    public int? CropSize { get; init; }
    /// <summary>Slide stride; null = 2/3 of the window (341 for 512).</summary>
    public int? Stride { get; init; }

    // The largest probe.test_scale value: 16 (the largest ratio) times it stays below 2^31.
    private const int MaxTestScale = 100_000_000;

    /// <inheritdoc/>
    public void Validate(string prefix)
    {
        ConfigCheck.Require(Layers.Count > 0, prefix, "layers", "must list at least one block");
        ConfigCheck.Require(Layers.Distinct().Count() == Layers.Count, prefix, "layers", "must not repeat a block");
        ConfigCheck.Require(NumClasses is null or > 0, prefix, "num_classes", $"must be positive or null (got {NumClasses})");
        ConfigCheck.Require(NBins >= 2, prefix, "n_bins", $"must be ≥ 2 (got {NBins})");
        ConfigCheck.Require(MinDepth >= 0, prefix, "min_depth", $"must be ≥ 0 (got {MinDepth})");
        ConfigCheck.Require(MaxDepth > MinDepth, prefix, "max_depth", $"must exceed probe.min_depth ({MaxDepth} ≤ {MinDepth})");
        ConfigCheck.Require(Upsample >= 1, prefix, "upsample", $"must be ≥ 1 (got {Upsample})");
        ConfigCheck.Require(CropSize is null or > 0, prefix, "crop_size", $"must be positive or null (got {CropSize})");
        ConfigCheck.Require(Stride is null or > 0, prefix, "stride", $"must be positive or null (got {Stride})");
        ConfigCheck.Require(Head == ProbeHead.Linear || Task == ProbeTask.Segmentation, prefix, "head",
            $"{ConfigSchema.EnumName(Head)} is implemented for probe.task=segmentation only (got probe.task={ConfigSchema.EnumName(Task)}); use probe.head=linear");
        ConfigCheck.Require(Head != ProbeHead.Upernet || Layers.Count == 4, prefix, "layers",
            $"probe.head=upernet reads four blocks (Token Labeling's S: [6, 9, 12, 15]); got {Layers.Count}");
        ConfigCheck.Require(UpernetChannels > 0, prefix, "upernet_channels", $"must be positive (got {UpernetChannels})");
        ConfigCheck.Require(UpernetNeckChannels > 0, prefix, "upernet_neck_channels", $"must be positive (got {UpernetNeckChannels})");
        ConfigCheck.Require(UpernetAuxChannels > 0, prefix, "upernet_aux_channels", $"must be positive (got {UpernetAuxChannels})");
        ConfigCheck.Require(UpernetAuxWeight >= 0, prefix, "upernet_aux_weight", $"must be ≥ 0 (got {UpernetAuxWeight})");
        ConfigCheck.Require(FcnChannels is null or > 0, prefix, "fcn_channels", $"must be positive or null (got {FcnChannels})");
        ConfigCheck.Require(FcnNumConvs >= 0, prefix, "fcn_num_convs", $"must be ≥ 0 (got {FcnNumConvs})");
        ConfigCheck.Require(FcnDropout is >= 0 and < 1, prefix, "fcn_dropout", $"must be in [0, 1) (got {FcnDropout})");
        ConfigCheck.Require(HeadWeights is null || (Task != ProbeTask.Classification && !TrainBackbone), prefix, "head_weights",
            "a released head is evaluated on a frozen backbone: it needs probe.task=segmentation or depth and probe.train_backbone=false");
        ConfigCheck.Require(HeadWeights is null || Head != ProbeHead.Fcn, prefix, "head_weights", "no released FCN heads are read; use probe.head=linear or upernet");
        ConfigCheck.Require(Lrs is null || Lrs.Count > 0, prefix, "lrs", "must list at least one learning rate (or be null for [optim.lr])");
        ConfigCheck.Require(Lrs is null || Lrs.All(lr => lr > 0 && double.IsFinite(lr)), prefix, "lrs", $"must hold positive learning rates (got [{string.Join(", ", Lrs ?? [])}])");
        ConfigCheck.Require(Lrs is null || Lrs.Distinct().Count() == Lrs.Count, prefix, "lrs", "must not repeat a learning rate");
        ConfigCheck.Require(NLastBlocks is null || NLastBlocks.Count > 0, prefix, "n_last_blocks", "must list at least one n (or be null for [1, 4])");
        ConfigCheck.Require(NLastBlocks is null || NLastBlocks.All(n => n >= 1), prefix, "n_last_blocks", $"must hold n ≥ 1 (got [{string.Join(", ", NLastBlocks ?? [])}])");
        ConfigCheck.Require(NLastBlocks is null || NLastBlocks.Distinct().Count() == NLastBlocks.Count, prefix, "n_last_blocks", "must not repeat an n");
        ConfigCheck.Require(Avgpool is null || Avgpool.Count is 1 or 2 && Avgpool.Distinct().Count() == Avgpool.Count, prefix, "avgpool",
            "must be [false], [true] or [false, true] (or null for both)");
        foreach (var (key, set) in new[] { ("lrs", Lrs is not null), ("n_last_blocks", NLastBlocks is not null), ("avgpool", Avgpool is not null) })
            ConfigCheck.Require(!set || Task == ProbeTask.Classification, prefix, key,
                $"applies to probe.task=classification only (got probe.task={ConfigSchema.EnumName(Task)})");
        ConfigCheck.Require(!Slide || Task != ProbeTask.Classification, prefix, "slide", "is a dense-probe protocol; probe.task=classification evaluates whole images");
        ConfigCheck.Require(!TrainBackbone || Task != ProbeTask.Classification, prefix, "train_backbone", "probe.task=classification is a linear probe on a frozen backbone");
        ConfigCheck.Require(BackboneLrMult is > 0 and <= 1000, prefix, "backbone_lr_mult", $"must be in (0, 1000] (got {BackboneLrMult})");
        ConfigCheck.Require(TestScales is null || TestScales.Count > 0, prefix, "test_scales", "must list at least one ratio (or be null for single scale)");
        ConfigCheck.Require(TestScales is null || TestScales.All(r => r is > 0 and <= 16 && double.IsFinite(r)), prefix, "test_scales",
            $"must hold ratios in (0, 16] (got [{string.Join(", ", TestScales ?? [])}])");
        ConfigCheck.Require(TestScales is null || TestScales.Distinct().Count() == TestScales.Count, prefix, "test_scales", "must not repeat a ratio");
        foreach (var (key, set) in new[] { ("test_scales", TestScales is not null), ("test_flip", TestFlip) })
            ConfigCheck.Require(!set || Task == ProbeTask.Segmentation, prefix, key,
                $"the multi-scale + flip test is implemented for probe.task=segmentation only (got probe.task={ConfigSchema.EnumName(Task)})");
        ConfigCheck.Require(TestScale is null || TestScale.Count == 2, prefix, "test_scale",
            $"must be two sizes [long, short] like mmseg's img_scale, e.g. [2048, 512] (got {TestScale?.Count} values)");
        ConfigCheck.Require(TestScale is null || TestScale.All(v => v is >= 1 and <= MaxTestScale), prefix, "test_scale",
            $"must hold sizes in [1, {MaxTestScale}] (mmseg's unbounded long edge is 99999999; got [{string.Join(", ", TestScale ?? [])}])");
        ConfigCheck.Require(TestScale is null || Task == ProbeTask.Segmentation, prefix, "test_scale",
            $"the test rescale is implemented for probe.task=segmentation only (got probe.task={ConfigSchema.EnumName(Task)})");
        ConfigCheck.Require(TestScale is null || Slide, prefix, "test_scale",
            "needs probe.slide=true: whole mode resizes every image to the backbone's square input");
        ConfigCheck.Require(TestScales is null || Slide || TestScales.All(r => r == 1.0), prefix, "test_scales",
            $"ratios other than 1 need probe.slide=true: whole mode feeds the fixed-size backbone its square input (got [{string.Join(", ", TestScales ?? [])}])");
    }
}
