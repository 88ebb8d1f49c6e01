namespace Reproduce.Training.Config;

/// <summary>Target of the class-token term of the token-labeling loss.</summary>
public enum ClassTarget
{
    /// <summary>The (smoothed, mixed) ground-truth label: the paper's L_cls = H(X_cls, y_cls).</summary>
    GroundTruth,
    /// <summary>The annotator's crop-level label (RoIAlign of the crop box to 1×1): the official code's default.</summary>
    Annotator,
    /// <summary>
    /// The official code's <c>--ground-truth</c> blend: weight 0.5 on the annotator when its argmax equals the
    /// GT, else 0.9, the rest on the GT (as implemented, not as its comment says).
    /// </summary>
    Blend,
}

/// <summary>
/// Token labeling ("All Tokens Matter", LV-ViT): L = w_cls·H(X_cls, y_cls) + w_dense·(1/N)·Σᵢ H(Xᵢ, yᵢ) with
/// soft targets yᵢ from a machine annotator's dense score maps. The paper states β = w_dense = 0.5
/// (<see cref="PaperDenseWeight"/>); the official code's default is 1.0 (<see cref="OfficialDenseWeight"/>,
/// zihangJiang/TokenLabeling main.py <c>--dense-weight</c>). Both are valid settings; the default is the paper's.
/// </summary>
public sealed record TokenLabelSection : IConfigSection
{
    /// <summary>β = 0.5, as stated in the paper.</summary>
    public const double PaperDenseWeight = 0.5;

    /// <summary>1.0, the official code's <c>--dense-weight</c> default.</summary>
    public const double OfficialDenseWeight = 1.0;

    /// <summary>Train with token labels.</summary>
    public bool Enabled { get; init; }
    /// <summary>w_cls, weight of the class-token term (official <c>--cls-weight</c> 1.0).</summary>
    public double ClsWeight { get; init; } = 1.0;
    /// <summary>w_dense = β, weight of the per-token term (paper 0.5, official code 1.0).</summary>
    public double DenseWeight { get; init; } = PaperDenseWeight;
    /// <summary>ground_truth | annotator | blend.</summary>
    public ClassTarget ClassTarget { get; init; } = ClassTarget.GroundTruth;
    /// <summary>
    /// Where the maps are, required when enabled: a store file written by <c>reproduce annotate</c>, or a folder in
    /// TokenLabeling's released layout (<c>&lt;wnid&gt;/&lt;stem&gt;.pt</c>, e.g. <c>label_top5_train_nfnet</c>, whose maps are
    /// NFNet-F6's at 576 px; docs/papers/token-labeling.md §1.4). ImageNet samples are looked up by their relative path.
    /// </summary>
    public string? Source { get; init; }
    /// <summary>Side of the per-token label grid; null = the model's patch grid (14 at 224 with patch 16).</summary>
    public int? LabelSize { get; init; }
    /// <summary>Top-k scores kept per location by the annotator (official: 5).</summary>
    public int Topk { get; init; } = 5;

    /// <inheritdoc/>
    public void Validate(string prefix)
    {
        ConfigCheck.NonNegative(ClsWeight, prefix, "cls_weight");
        ConfigCheck.NonNegative(DenseWeight, prefix, "dense_weight");
        ConfigCheck.Require(!Enabled || !string.IsNullOrWhiteSpace(Source), prefix, "source", "must name the token-label store when token_label.enabled is true");
        ConfigCheck.Require(LabelSize is null or > 0, prefix, "label_size", $"must be positive or null (got {LabelSize})");
        ConfigCheck.Require(Topk >= 1, prefix, "topk", $"must be ≥ 1 (got {Topk})");
    }
}
