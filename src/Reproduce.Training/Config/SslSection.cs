using System.Globalization;

namespace Reproduce.Training.Config;

/// <summary>Which self-supervised objective <c>reproduce train</c> optimises instead of supervised classification.</summary>
public enum SslMethod
{
    /// <summary>Supervised classification (the classification trainer).</summary>
    None,
    /// <summary>DINOv2 (Oquab et al. 2023): DINO + iBOT + KoLeo with a student and an EMA teacher (docs/dinov2.md).</summary>
    [ConfigName("dinov2")] DinoV2,
}

/// <summary>How the teacher's DINO/iBOT targets are made (dinov2 <c>train.centering</c>).</summary>
public enum SslCentering
{
    /// <summary>EMA centering, then a tempered softmax ("centering").</summary>
    [ConfigName("ema")] Ema,
    /// <summary>Sinkhorn–Knopp, 3 iterations ("sinkhorn_knopp").</summary>
    SinkhornKnopp,
}

/// <summary>
/// Self-supervised pretraining (<c>ssl.*</c>): the knobs of dinov2's <c>ssl_default_config.yaml</c> that no other
/// section holds. The rest is read from the sections that mean the same (docs/dinov2.md has the full mapping): the
/// backbone from <c>model.*</c> (<c>model.img_size</c> is the global crop size, <c>model.drop_path_rate</c>,
/// <c>model.init_values</c> the LayerScale), the images from <c>data.*</c> (<c>data.batch_size</c> per process), the
/// length and lr schedule from <c>optim.*</c> (<c>steps</c> or <c>epochs</c> of <see cref="EpochLength"/> iterations,
/// <c>warmup_*</c>, <c>min_lr</c>, <c>weight_decay</c> as the start of its cosine, <c>betas</c>, <c>grad_clip</c> per
/// student submodule, <c>layer_decay</c>), <c>seed</c>, <c>threads</c> and <c>checkpoint.*</c>. Defaults are dinov2's.
/// </summary>
public sealed record SslSection : IConfigSection
{
    /// <summary>none | dinov2.</summary>
    public SslMethod Method { get; init; } = SslMethod.None;
    /// <summary>
    /// Iterations per schedule epoch (dinov2 <c>train.OFFICIAL_EPOCH_LENGTH</c>, 1250); the schedules' epoch keys
    /// (<c>optim.epochs</c>, <c>optim.warmup_epochs</c>, <see cref="WarmupTeacherTempEpochs"/>, <see cref="FreezeLastLayerEpochs"/>)
    /// count these. Null = one pass over the training images at the global batch.
    /// </summary>
    public long? EpochLength { get; init; }
    /// <summary>
    /// optim.base_lr, the peak lr for a global batch of 1024 scaled by dinov2's <c>sqrt_wrt_1024</c> rule,
    /// lr = base_lr·√(batch_size·processes / 1024); null = <c>optim.lr</c> is the peak lr as given.
    /// </summary>
    public double? BaseLr { get; init; }
    /// <summary>optim.weight_decay_end: the weight decay's cosine runs from <c>optim.weight_decay</c> (0.04) to this.</summary>
    public double WeightDecayEnd { get; init; } = 0.4;
    /// <summary>optim.patch_embed_lr_mult: lr multiplier of the patch embedding.</summary>
    public double PatchEmbedLrMult { get; init; } = 0.2;
    /// <summary>optim.freeze_last_layer_epochs: the heads' last layer has lr 0 for this many epochs.</summary>
    public double FreezeLastLayerEpochs { get; init; } = 1;
    /// <summary>teacher.momentum_teacher: start of the teacher EMA momentum's cosine.</summary>
    public double MomentumTeacher { get; init; } = 0.992;
    /// <summary>teacher.final_momentum_teacher: its end.</summary>
    public double FinalMomentumTeacher { get; init; } = 1.0;
    /// <summary>teacher.teacher_temp: the teacher temperature after the warm-up.</summary>
    public double TeacherTemp { get; init; } = 0.07;
    /// <summary>teacher.warmup_teacher_temp: the temperature the linear warm-up starts from.</summary>
    public double WarmupTeacherTemp { get; init; } = 0.04;
    /// <summary>teacher.warmup_teacher_temp_epochs.</summary>
    public double WarmupTeacherTempEpochs { get; init; } = 30;
    /// <summary>dino.head_n_prototypes (K; also iBOT's).</summary>
    public long HeadPrototypes { get; init; } = 65536;
    /// <summary>dino.head_hidden_dim.</summary>
    public long HeadHiddenDim { get; init; } = 2048;
    /// <summary>dino.head_bottleneck_dim.</summary>
    public long HeadBottleneckDim { get; init; } = 256;
    /// <summary>dino.head_nlayers.</summary>
    public int HeadLayers { get; init; } = 3;
    /// <summary>ibot.separate_head: iBOT gets its own head of the same sizes (false: it shares the DINO head).</summary>
    public bool IbotSeparateHead { get; init; }
    /// <summary>dino.loss_weight.</summary>
    public double DinoLossWeight { get; init; } = 1.0;
    /// <summary>dino.koleo_loss_weight.</summary>
    public double KoleoLossWeight { get; init; } = 0.1;
    /// <summary>ibot.loss_weight (0 turns iBOT off).</summary>
    public double IbotLossWeight { get; init; } = 1.0;
    /// <summary>train.centering: ema (dinov2 "centering") | sinkhorn_knopp.</summary>
    public SslCentering Centering { get; init; } = SslCentering.Ema;
    /// <summary>crops.local_crops_number (0 turns local crops off).</summary>
    public int LocalCrops { get; init; } = 8;
    /// <summary>crops.local_crops_size (96; 98 in dinov2's patch-14 configs).</summary>
    public int LocalCropSize { get; init; } = 96;
    /// <summary>crops.global_crops_scale (area fraction range of the two global crops).</summary>
    public IReadOnlyList<double> GlobalCropScale { get; init; } = [0.32, 1.0];
    /// <summary>crops.local_crops_scale.</summary>
    public IReadOnlyList<double> LocalCropScale { get; init; } = [0.05, 0.32];
    /// <summary>ibot.mask_ratio_min_max.</summary>
    public IReadOnlyList<double> MaskRatio { get; init; } = [0.1, 0.5];
    /// <summary>ibot.mask_sample_probability: the fraction of global crops that get a mask.</summary>
    public double MaskSampleProbability { get; init; } = 0.5;
    /// <summary>k of the weighted k-NN evaluation of the teacher at the end (dinov2 eval/knn.py reports k = 20).</summary>
    public int KnnK { get; init; } = 20;
    /// <summary>T of the weighted k-NN (0.07).</summary>
    public double KnnTemperature { get; init; } = 0.07;

    /// <summary>
    /// Epochs of the linear evaluation on the teacher's frozen [CLS] features at the end (dinov2 eval/linear.py trains
    /// 10 × 1250 iterations at batch 1024, about 10 ImageNet epochs); 0 = none.
    /// </summary>
    public int LinearEpochs { get; init; } = 10;
    /// <summary>Its batch size (dinov2: 128 per GPU × 8).</summary>
    public int LinearBatchSize { get; init; } = 1024;
    /// <summary>Its learning-rate grid before the × batch / 256 scaling (dinov2 linear.py's <c>learning_rates</c>); the best is reported.</summary>
    public IReadOnlyList<double> LinearLrs { get; init; } = [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1];

    /// <summary>True when a self-supervised method replaces supervised training.</summary>
    public bool Enabled => Method != SslMethod.None;

    /// <inheritdoc/>
    public void Validate(string prefix)
    {
        ConfigCheck.Require(EpochLength is null or > 0, prefix, "epoch_length", $"must be positive or null (got {EpochLength})");
        ConfigCheck.Require(BaseLr is null or >= 0, prefix, "base_lr", $"must be ≥ 0 or null (got {BaseLr})");
        ConfigCheck.NonNegative(WeightDecayEnd, prefix, "weight_decay_end");
        ConfigCheck.Positive(PatchEmbedLrMult, prefix, "patch_embed_lr_mult");
        ConfigCheck.NonNegative(FreezeLastLayerEpochs, prefix, "freeze_last_layer_epochs");
        ConfigCheck.Probability(MomentumTeacher, prefix, "momentum_teacher");
        ConfigCheck.Probability(FinalMomentumTeacher, prefix, "final_momentum_teacher");
        ConfigCheck.Positive(TeacherTemp, prefix, "teacher_temp");
        ConfigCheck.Positive(WarmupTeacherTemp, prefix, "warmup_teacher_temp");
        ConfigCheck.NonNegative(WarmupTeacherTempEpochs, prefix, "warmup_teacher_temp_epochs");
        ConfigCheck.Require(HeadPrototypes >= 1, prefix, "head_prototypes", $"must be ≥ 1 (got {HeadPrototypes})");
        ConfigCheck.Require(HeadHiddenDim >= 1, prefix, "head_hidden_dim", $"must be ≥ 1 (got {HeadHiddenDim})");
        ConfigCheck.Require(HeadBottleneckDim >= 1, prefix, "head_bottleneck_dim", $"must be ≥ 1 (got {HeadBottleneckDim})");
        ConfigCheck.Require(HeadLayers >= 1, prefix, "head_layers", $"must be ≥ 1 (got {HeadLayers})");
        ConfigCheck.NonNegative(DinoLossWeight, prefix, "dino_loss_weight");
        ConfigCheck.NonNegative(KoleoLossWeight, prefix, "koleo_loss_weight");
        ConfigCheck.NonNegative(IbotLossWeight, prefix, "ibot_loss_weight");
        ConfigCheck.Require(LocalCrops >= 0, prefix, "local_crops", $"must be ≥ 0 (got {LocalCrops})");
        ConfigCheck.Require(LocalCropSize >= 1, prefix, "local_crop_size", $"must be ≥ 1 (got {LocalCropSize})");
        Range(GlobalCropScale, prefix, "global_crop_scale", positive: true);
        Range(LocalCropScale, prefix, "local_crop_scale", positive: true);
        Range(MaskRatio, prefix, "mask_ratio", positive: false);
        ConfigCheck.Probability(MaskSampleProbability, prefix, "mask_sample_probability");
        ConfigCheck.Require(KnnK >= 1, prefix, "knn_k", $"must be ≥ 1 (got {KnnK})");
        ConfigCheck.Positive(KnnTemperature, prefix, "knn_temperature");
        ConfigCheck.Require(LinearEpochs >= 0, prefix, "linear_epochs", $"must be ≥ 0 (0 = no linear evaluation), got {LinearEpochs}");
        ConfigCheck.Require(LinearBatchSize >= 1, prefix, "linear_batch_size", $"must be ≥ 1 (got {LinearBatchSize})");
        ConfigCheck.Require(LinearLrs.Count > 0 && LinearLrs.All(lr => lr > 0), prefix, "linear_lrs",
            $"must be a non-empty list of positive learning rates, got [{string.Join(", ", LinearLrs.Select(v => v.ToString(CultureInfo.InvariantCulture)))}]");
    }

    private static void Range(IReadOnlyList<double> r, string prefix, string key, bool positive) =>
        ConfigCheck.Require(r.Count == 2 && (positive ? r[0] > 0 : r[0] >= 0) && r[0] <= r[1] && r[1] <= 1, prefix, key,
            $"must be [min, max] with {(positive ? "0 < min" : "0 ≤ min")} ≤ max ≤ 1, got [{string.Join(", ", r.Select(v => v.ToString(CultureInfo.InvariantCulture)))}]");
}
