using Reproduce.Torch;

namespace Reproduce.Training.Config;

/// <summary>Dataset, input size, batch sizes and loader workers.</summary>
public sealed record DataSection : IConfigSection
{
    /// <summary>Dataset name (e.g. <c>fashion-mnist</c>, <c>fashion-scenes</c>, <c>imagenet</c>, <c>ade20k</c>, <c>nyuv2</c>, <c>kitti</c>).</summary>
    public string Dataset { get; init; } = "fashion-mnist";
    /// <summary>Dataset root directory; null for the embedded datasets' default location.</summary>
    public string? Root { get; init; }
    /// <summary>Input resolution; null = the model's default.</summary>
    public int? ImgSize { get; init; }
    /// <summary>Training batch size (per process, per optimizer micro-step).</summary>
    public int BatchSize { get; init; } = 128;
    /// <summary>Evaluation batch size; null = <see cref="BatchSize"/>.</summary>
    public int? EvalBatchSize { get; init; }
    /// <summary>
    /// Threads building batches off the training thread (decode, augment, collate; 2 × workers built ahead at most) in
    /// train, eval and the probes; 0 = on the training thread. Results are the same for any number.
    /// </summary>
    public int Workers { get; init; } = 2;
    /// <summary>Training split name.</summary>
    public string TrainSplit { get; init; } = "train";
    /// <summary>Evaluation split name; null = the dataset's validation split.</summary>
    public string? EvalSplit { get; init; }
    /// <summary>Use only the first N training samples (smoke/quick subsets); null = all.</summary>
    public int? TrainLimit { get; init; }
    /// <summary>Use only the first N evaluation samples; null = all.</summary>
    public int? EvalLimit { get; init; }
    /// <summary>Eval center-crop fraction; null = the model's (DeiT repo 0.875, timm DeiT / LV-ViT-T/S 0.9, LV-ViT-M/L 1.0).</summary>
    public double? CropPct { get; init; }
    /// <summary>Eval resize interpolation; null = the model's.</summary>
    public InterpolationMode? Interpolation { get; init; }
    /// <summary>Per-channel normalisation mean; null = the model's (ImageNet).</summary>
    public IReadOnlyList<double>? Mean { get; init; }
    /// <summary>Per-channel normalisation std; null = the model's (ImageNet).</summary>
    public IReadOnlyList<double>? Std { get; init; }

    /// <summary>
    /// Repeated augmentation (DeiT's RASampler, Hoffer et al. 2020; DeiT III uses 3): each image appears this many
    /// times in a row of the epoch order, the copies spread over the ranks, and an epoch keeps ⌊n/256⌋·256 samples in
    /// all; 0 = off (the seeded per-epoch permutation). See <see cref="Pretraining.RepeatedAugmentationSampler"/>.
    /// </summary>
    [ConfigOmitWhenDefault]
    public int RepeatedAug { get; init; }

    /// <inheritdoc/>
    public void Validate(string prefix)
    {
        ConfigCheck.Require(!string.IsNullOrWhiteSpace(Dataset), prefix, "dataset", "must name a dataset");
        ConfigCheck.Require(ImgSize is null or > 0, prefix, "img_size", $"must be positive (got {ImgSize})");
        ConfigCheck.Require(BatchSize > 0, prefix, "batch_size", $"must be positive (got {BatchSize})");
        ConfigCheck.Require(EvalBatchSize is null or > 0, prefix, "eval_batch_size", $"must be positive (got {EvalBatchSize})");
        ConfigCheck.Require(RepeatedAug >= 0, prefix, "repeated_aug", $"must be ≥ 0 (got {RepeatedAug})");
        ConfigCheck.Require(Workers >= 0, prefix, "workers", $"must be ≥ 0 (got {Workers})");
        ConfigCheck.Require(TrainLimit is null or > 0, prefix, "train_limit", $"must be positive or null (got {TrainLimit})");
        ConfigCheck.Require(EvalLimit is null or > 0, prefix, "eval_limit", $"must be positive or null (got {EvalLimit})");
        ConfigCheck.Require(CropPct is null or > 0 and <= 1, prefix, "crop_pct", $"must be in (0, 1] (got {CropPct})");
        ConfigCheck.Require(Mean is null || Std is null || Mean.Count == Std.Count, prefix, "std", $"must have as many entries as data.mean ({Mean?.Count} vs {Std?.Count})");
        ConfigCheck.Require(Std is null || Std.All(s => s > 0), prefix, "std", "entries must be positive");
    }
}
