using System.Globalization;

namespace Reproduce.Training.Config;

/// <summary>Optimizer family (Reproduce.Torch.Optim).</summary>
public enum OptimizerKind
{
    /// <summary>AdamW (decoupled weight decay).</summary>
    [ConfigName("adamw")] AdamW,
    /// <summary>SGD with momentum.</summary>
    Sgd,
    /// <summary>LAMB.</summary>
    Lamb,
}

/// <summary>Learning-rate schedule after the linear warmup.</summary>
public enum ScheduleKind
{
    /// <summary>Half-cosine from lr to min_lr (timm CosineLRScheduler).</summary>
    Cosine,
    /// <summary>Polynomial decay to min_lr with <see cref="OptimSection.PolyPower"/> (mmseg PolyLR).</summary>
    Poly,
    /// <summary>Constant lr after warmup.</summary>
    Constant,
}

/// <summary>Classification loss.</summary>
public enum LossKind
{
    /// <summary>Softmax cross-entropy with (soft) targets.</summary>
    [ConfigName("ce")] CrossEntropy,
    /// <summary>Binary cross-entropy on one-hot / mixed targets (DeiT III).</summary>
    [ConfigName("bce")] BinaryCrossEntropy,
    /// <summary>
    /// Binary cross-entropy on targets binarised after Mixup/CutMix, y = 1[t &gt; 0] (DeiT III's <c>--bce-loss</c>:
    /// <c>targets.gt(0.0)</c> in deit's engine.py): every class present in a mixed image is a positive.
    /// </summary>
    [ConfigName("bce_binarized")] BinaryCrossEntropyBinarized,
}

/// <summary>
/// Optimisation. Defaults are the DeiT / LV-ViT ImageNet recipe (AdamW, wd 0.05, 300 epochs, 5 warmup epochs
/// from 1e-6, cosine to 1e-5); the lr default 5e-4 is DeiT's at batch 512 (LV-ViT uses 1.6e-3 at 1024).
/// Length is <see cref="Steps"/> optimizer updates when set, else <see cref="Epochs"/> epochs; warmup likewise.
/// </summary>
public sealed record OptimSection : IConfigSection
{
    /// <summary>adamw | sgd | lamb.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;
    /// <summary>Peak (base) learning rate.</summary>
    public double Lr { get; init; } = 5e-4;
    /// <summary>Weight decay of the decaying group (1-d params, biases, pos_embed and tokens are excluded).</summary>
    public double WeightDecay { get; init; } = 0.05;
    /// <summary>Adam/LAMB betas (β₁, β₂).</summary>
    public IReadOnlyList<double> Betas { get; init; } = [0.9, 0.999];
    /// <summary>Adam/LAMB epsilon.</summary>
    public double Eps { get; init; } = 1e-8;
    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;
    /// <summary>Schedule after warmup.</summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;
    /// <summary>Training length in epochs (used when <see cref="Steps"/> is null).</summary>
    public int Epochs { get; init; } = 300;
    /// <summary>Training length in optimizer updates; overrides <see cref="Epochs"/>.</summary>
    public long? Steps { get; init; }
    /// <summary>Warmup length in epochs (used when <see cref="WarmupSteps"/> is null).</summary>
    public double WarmupEpochs { get; init; } = 5;
    /// <summary>Warmup length in optimizer updates; overrides <see cref="WarmupEpochs"/>.</summary>
    public long? WarmupSteps { get; init; }
    /// <summary>Learning rate at the start of warmup.</summary>
    public double WarmupLr { get; init; } = 1e-6;
    /// <summary>Floor of the schedule.</summary>
    public double MinLr { get; init; } = 1e-5;
    /// <summary>Power of the poly schedule.</summary>
    public double PolyPower { get; init; } = 1.0;
    /// <summary>Clip the global gradient norm to this value; null = no clipping.</summary>
    public double? GradClip { get; init; }
    /// <summary>Micro-batches accumulated per optimizer update.</summary>
    public int Accumulation { get; init; } = 1;
    /// <summary>Keep an exponential moving average of the weights.</summary>
    public bool Ema { get; init; }
    /// <summary>EMA decay (DeiT 0.99996; LV-ViT 0.99992).</summary>
    public double EmaDecay { get; init; } = 0.99996;
    /// <summary>ce | bce | bce_binarized (DeiT III: BCE on targets binarised by t &gt; 0 after mixing).</summary>
    public LossKind Loss { get; init; } = LossKind.CrossEntropy;
    /// <summary>Extra parameter names or fnmatch patterns without weight decay; null = the ViT defaults (pos_embed, cls_token, reg_token, dist_token).</summary>
    public IReadOnlyList<string>? NoWeightDecay { get; init; }
    /// <summary>Layer-wise lr decay factor (fine-tuning); null = off.</summary>
    public double? LayerDecay { get; init; }

    /// <inheritdoc/>
    public void Validate(string prefix)
    {
        ConfigCheck.NonNegative(Lr, prefix, "lr");
        ConfigCheck.NonNegative(WeightDecay, prefix, "weight_decay");
        ConfigCheck.Require(Betas.Count == 2 && Betas.All(b => b is >= 0 and < 1), prefix, "betas",
            $"must be two values in [0, 1), got [{string.Join(", ", Betas.Select(b => b.ToString(CultureInfo.InvariantCulture)))}]");
        ConfigCheck.NonNegative(Eps, prefix, "eps");
        ConfigCheck.NonNegative(Momentum, prefix, "momentum");
        ConfigCheck.Require(Epochs > 0 || Steps is not null, prefix, "epochs", $"must be positive when optim.steps is null (got {Epochs})");
        ConfigCheck.Require(Steps is null or > 0, prefix, "steps", $"must be positive or null (got {Steps})");
        ConfigCheck.NonNegative(WarmupEpochs, prefix, "warmup_epochs");
        ConfigCheck.Require(WarmupSteps is null or >= 0, prefix, "warmup_steps", $"must be ≥ 0 or null (got {WarmupSteps})");
        ConfigCheck.NonNegative(WarmupLr, prefix, "warmup_lr");
        ConfigCheck.NonNegative(MinLr, prefix, "min_lr");
        ConfigCheck.Positive(PolyPower, prefix, "poly_power");
        ConfigCheck.Require(GradClip is null or > 0, prefix, "grad_clip", $"must be positive or null (got {GradClip})");
        ConfigCheck.Require(Accumulation >= 1, prefix, "accumulation", $"must be ≥ 1 (got {Accumulation})");
        ConfigCheck.Require(EmaDecay is >= 0 and < 1, prefix, "ema_decay", $"must be in [0, 1) (got {EmaDecay})");
        ConfigCheck.Require(LayerDecay is null or > 0 and <= 1, prefix, "layer_decay", $"must be in (0, 1] or null (got {LayerDecay})");
    }
}
