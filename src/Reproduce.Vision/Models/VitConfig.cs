namespace Reproduce.Vision.Models;

/// <summary>How <see cref="VisionTransformer.ForwardHead"/> reduces the token sequence (timm's <c>global_pool</c>).</summary>
public enum GlobalPool
{
    /// <summary>timm <c>'token'</c>: the class token's features (requires <see cref="VitConfig.ClassToken"/>).</summary>
    Token,
    /// <summary>timm <c>'avg'</c>: the mean over the patch tokens (prefix tokens excluded).</summary>
    Avg,
}

/// <summary>
/// Hyper-parameters of a <see cref="VisionTransformer"/>, named after timm's <c>VisionTransformer</c>
/// arguments (<c>img_size</c> → <see cref="ImgSize"/>, <c>init_values</c> → <see cref="InitValues"/>, ...).
/// Defaults are timm's (ViT-B/16 shape, 1000 classes). Presets: <see cref="TinyPatch16"/>,
/// <see cref="SmallPatch16"/>, <see cref="BasePatch16"/>.
/// </summary>
public sealed record VitConfig
{
    /// <summary>Input height and width in pixels (square images).</summary>
    public int ImgSize { get; init; } = 224;
    /// <summary>Patch height and width; must divide <see cref="ImgSize"/>.</summary>
    public int PatchSize { get; init; } = 16;
    /// <summary>Input channels.</summary>
    public int InChans { get; init; } = 3;
    /// <summary>Classifier outputs; 0 makes <c>head</c> an identity (features out).</summary>
    public int NumClasses { get; init; } = 1000;
    /// <summary>Token width D.</summary>
    public int EmbedDim { get; init; } = 768;
    /// <summary>Number of transformer blocks.</summary>
    public int Depth { get; init; } = 12;
    /// <summary>Attention heads; must divide <see cref="EmbedDim"/>.</summary>
    public int NumHeads { get; init; } = 12;
    /// <summary>MLP hidden width as a multiple of <see cref="EmbedDim"/> (hidden = ⌊D·ratio⌋).</summary>
    public double MlpRatio { get; init; } = 4.0;
    /// <summary>Bias on the fused qkv projection.</summary>
    public bool QkvBias { get; init; } = true;
    /// <summary>Prepend a learnable class token.</summary>
    public bool ClassToken { get; init; } = true;
    /// <summary>Pooling before the head.</summary>
    public GlobalPool GlobalPool { get; init; } = GlobalPool.Token;
    /// <summary>
    /// Normalise after pooling (<c>fc_norm</c>) instead of before it (<c>norm</c>); null follows timm:
    /// on for <see cref="Models.GlobalPool.Avg"/>, off for <see cref="Models.GlobalPool.Token"/>.
    /// </summary>
    public bool? FcNorm { get; init; }
    /// <summary>Layer-scale initial value (timm <c>init_values</c>); null disables layer scale (ls1/ls2 are identities).</summary>
    public double? InitValues { get; init; }
    /// <summary>Stochastic-depth rate of the last block; block i gets rate·i/(depth−1) (timm's linear schedule).</summary>
    public double DropPathRate { get; init; }
    /// <summary>Dropout before the head (timm <c>drop_rate</c>).</summary>
    public double DropRate { get; init; }
    /// <summary>Dropout after adding position embeddings (timm <c>pos_drop_rate</c>).</summary>
    public double PosDropRate { get; init; }
    /// <summary>Dropout after the attention and MLP output projections (timm <c>proj_drop_rate</c>).</summary>
    public double ProjDropRate { get; init; }
    /// <summary>Dropout on the attention probabilities (timm <c>attn_drop_rate</c>).</summary>
    public double AttnDropRate { get; init; }
    /// <summary>Standard deviation of the truncated-normal <c>pos_embed</c> init (timm: .02; 0 gives zeros).</summary>
    public double PosEmbedInitStd { get; init; } = 0.02;
    /// <summary>LayerNorm epsilon (timm's ViT uses 1e-6).</summary>
    public double NormEps { get; init; } = 1e-6;
    /// <summary>Structured Token Augmentation on the patch tokens (arXiv 2509.19687); null = off.</summary>
    public StructuredTokenAugmentationConfig? Sta { get; init; }
    /// <summary>Adaptive Noise Filtering between blocks (arXiv 2509.19687); null = off.</summary>
    public AdaptiveNoiseFilterConfig? Anf { get; init; }
    /// <summary>[CLS]/patch specialization (arXiv 2602.08626); null = off.</summary>
    public ClsSpecializationConfig? Specialization { get; init; }

    /// <summary>Patches per side.</summary>
    public int GridSize => ImgSize / PatchSize;
    /// <summary>Number of patch tokens.</summary>
    public int NumPatches => GridSize * GridSize;
    /// <summary>Class (prefix) tokens before the patch tokens.</summary>
    public int NumPrefixTokens => ClassToken ? 1 : 0;
    /// <summary>Sequence length seen by the blocks.</summary>
    public int NumTokens => NumPatches + NumPrefixTokens;
    /// <summary>MLP hidden width.</summary>
    public int MlpHiddenDim => (int)(EmbedDim * MlpRatio);
    /// <summary>Whether the final norm is applied after pooling (resolved <see cref="FcNorm"/>).</summary>
    public bool UseFcNorm => FcNorm ?? GlobalPool == GlobalPool.Avg;

    /// <summary>
    /// Multiply-add FLOPs (2 per multiply-accumulate) of the matmuls and the patch convolution in one
    /// image's forward pass; norms, softmax, GELU and element-wise ops are not counted. With T tokens,
    /// width D, MLP width Hm, P patches of p×p×C and K classes:
    /// 2·P·C·p²·D + depth·(2·T·D·3D + 2·T²·D + 2·T²·D + 2·T·D² + 2·2·T·D·Hm) + 2·D·K
    /// (qkv, q·kᵀ, attn·v, proj, fc1 + fc2; head). ViT-S/16 gives 9.20 GFLOP = 4.60 GMACs, the figure
    /// timm's model card gives for DeiT-S/16 (same shape). Adaptive Noise Filters add their gate and conv
    /// (<see cref="AdaptiveNoiseFilterConfig.ForwardFlops"/>); STA and [CLS]/patch specialization add none.
    /// </summary>
    public double ForwardMatmulFlops()
    {
        double t = NumTokens, d = EmbedDim, hm = MlpHiddenDim, p = PatchSize;
        var patch = 2.0 * NumPatches * InChans * p * p * d;
        var block = 2 * t * d * 3 * d + 2 * t * t * d + 2 * t * t * d + 2 * t * d * d + 2 * 2 * t * d * hm;
        var head = 2.0 * d * NumClasses;
        return patch + Depth * block + head + (Anf?.ForwardFlops(this) ?? 0);
    }

    /// <summary>ViT-Ti/16 (timm <c>vit_tiny_patch16_224</c>): D 192, depth 12, 3 heads.</summary>
    public static VitConfig TinyPatch16 => new() { EmbedDim = 192, Depth = 12, NumHeads = 3 };
    /// <summary>ViT-S/16 (timm <c>vit_small_patch16_224</c>): D 384, depth 12, 6 heads.</summary>
    public static VitConfig SmallPatch16 => new() { EmbedDim = 384, Depth = 12, NumHeads = 6 };
    /// <summary>ViT-B/16 (timm <c>vit_base_patch16_224</c>): D 768, depth 12, 12 heads.</summary>
    public static VitConfig BasePatch16 => new() { EmbedDim = 768, Depth = 12, NumHeads = 12 };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException("VitConfig: " + message);
        }
        Require(ImgSize > 0 && PatchSize > 0 && InChans > 0 && EmbedDim > 0 && Depth >= 0 && NumHeads > 0,
            $"sizes must be positive (img {ImgSize}, patch {PatchSize}, chans {InChans}, dim {EmbedDim}, depth {Depth}, heads {NumHeads})");
        Require(ImgSize % PatchSize == 0, $"patch size {PatchSize} does not divide image size {ImgSize}");
        Require(EmbedDim % NumHeads == 0, $"embed dim {EmbedDim} is not divisible by {NumHeads} heads");
        Require(NumClasses >= 0, $"num classes {NumClasses} is negative");
        Require(MlpRatio > 0, $"mlp ratio {MlpRatio} must be positive");
        Require(ClassToken || GlobalPool != GlobalPool.Token, "global pool 'token' needs a class token");
        foreach (var (name, p) in new[] { ("drop path", DropPathRate), ("drop", DropRate), ("pos drop", PosDropRate), ("proj drop", ProjDropRate), ("attn drop", AttnDropRate) })
            Require(p >= 0 && p < 1, $"{name} rate {p} must be in [0, 1)");
        Require(PosEmbedInitStd >= 0, $"pos-embed init std {PosEmbedInitStd} is negative");
        Require(InitValues is null || InitValues > 0, $"layer-scale init value {InitValues} must be positive (or null to disable)");
        Sta?.Validate();
        Anf?.Validate(Depth);
        Specialization?.Validate(this);
    }
}
