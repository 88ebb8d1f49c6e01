namespace Reproduce.Vision.Models;

/// <summary>How <see cref="VisionTransformer.ForwardHead"/> reduces the token sequence (timm's <c>global_pool</c>).</summary>
public enum GlobalPool
{
    /// <summary>timm <c>'token'</c>: the class token's features (requires <see cref="VitConfig.ClassToken"/>).</summary>
    Token,
    /// <summary>timm <c>'avg'</c>: the mean over the patch tokens (prefix tokens excluded).</summary>
    Avg,
}

/// <summary>How the stochastic-depth rate grows over the blocks.</summary>
public enum DropPathSchedule
{
    /// <summary>timm / DeiT / TokenLabeling <c>'linear'</c>: block i of L gets rate·i/(L−1) (float32 <c>torch.linspace</c>).</summary>
    Linear,
    /// <summary>TokenLabeling <c>'fix'</c> (CaiT style): every block gets the full rate.</summary>
    Uniform,
}

/// <summary>
/// Hyper-parameters of a <see cref="VisionTransformer"/>, named after timm's <c>VisionTransformer</c>
/// arguments (<c>img_size</c> → <see cref="ImgSize"/>, <c>init_values</c> → <see cref="InitValues"/>, ...).
/// Defaults are timm's (ViT-B/16 shape, 1000 classes). Presets: <see cref="TinyPatch16"/>,
/// <see cref="SmallPatch16"/>, <see cref="BasePatch16"/>, the LV-ViT family in <see cref="LvVit"/>, and
/// every named model in <see cref="ModelRegistry"/>. The token-labeling options (conv stem, <c>skip_lam</c>,
/// <c>aux_head</c>, MixToken) are in <c>VitConfig.TokenLabeling.cs</c>; the parameter count and GFLOPs in
/// <c>VitConfig.Cost.cs</c>.
/// </summary>
public sealed partial record VitConfig : IModelConfig
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
    /// <summary>
    /// Register tokens (timm <c>reg_tokens</c>; "Vision Transformers Need Registers", Darcet et al. 2024):
    /// learnable tokens inserted after the class token, never given a position embedding; pooling and the
    /// <c>aux_head</c> skip them.
    /// </summary>
    public int RegTokens { get; init; }
    /// <summary>
    /// timm <c>no_embed_class</c> (DeiT-III, big_vision): the position embedding covers only the patch tokens
    /// and is added before the class/register tokens are prepended. Off (ViT, DeiT): the class token has its
    /// own entry and the embedding is added after prepending.
    /// </summary>
    public bool NoEmbedClass { get; init; }
    /// <summary>
    /// timm <c>dynamic_img_size</c>: accept any input whose sides are multiples of the patch size and
    /// resample the position embedding to that grid on every forward (bicubic with antialiasing, timm's
    /// <c>resample_abs_pos_embed</c>). Off: the input must be <see cref="ImgSize"/> square.
    /// </summary>
    public bool DynamicImgSize { get; init; }
    /// <summary>
    /// dinov2's <c>interpolate_offset</c> (0.1 in its training configs; DINO's "historical kludge"): with
    /// <see cref="DynamicImgSize"/>, the embedding is resampled bicubically without antialiasing and driven by the
    /// scale factors (side + offset) / M instead of the output size (<see cref="Layers.PosEmbedResampling.ResampleWithOffset"/>).
    /// Null: timm's resampling.
    /// </summary>
    public double? InterpolateOffset { get; init; }
    /// <summary>Pooling before the head.</summary>
    public GlobalPool GlobalPool { get; init; } = GlobalPool.Token;
    /// <summary>
    /// Normalise after pooling (<c>fc_norm</c>) instead of before it (<c>norm</c>); null follows timm:
    /// on for <see cref="Models.GlobalPool.Avg"/>, off for <see cref="Models.GlobalPool.Token"/>.
    /// </summary>
    public bool? FcNorm { get; init; }
    /// <summary>Layer-scale initial value (timm <c>init_values</c>); null disables layer scale (ls1/ls2 are identities).</summary>
    public double? InitValues { get; init; }
    /// <summary>Stochastic-depth rate of the last block (timm <c>drop_path_rate</c>); see <see cref="DropPathSchedule"/>.</summary>
    public double DropPathRate { get; init; }
    /// <summary>How the per-block drop-path rates grow (TokenLabeling <c>drop_path_decay</c>).</summary>
    public DropPathSchedule DropPathSchedule { get; init; } = DropPathSchedule.Linear;
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
    /// <summary>
    /// Standard deviation of the normal init of <c>cls_token</c> and <c>reg_token</c> (timm: 1e-6; LV-ViT:
    /// .02, drawn there by <c>trunc_normal_</c> cut at ±2 = ±100σ, which is the same distribution).
    /// </summary>
    public double ClsTokenInitStd { get; init; } = 1e-6;
    /// <summary>LayerNorm epsilon (timm's ViT uses 1e-6).</summary>
    public double NormEps { get; init; } = 1e-6;

    /// <summary>Patches per side.</summary>
    public int GridSize => ImgSize / PatchSize;
    /// <summary>Number of patch tokens.</summary>
    public int NumPatches => GridSize * GridSize;
    /// <summary>Prefix tokens before the patch tokens: the class token and the register tokens.</summary>
    public int NumPrefixTokens => (ClassToken ? 1 : 0) + RegTokens;
    /// <summary>Sequence length seen by the blocks.</summary>
    public int NumTokens => NumPatches + NumPrefixTokens;
    /// <summary>
    /// Rows of <c>pos_embed</c>: the patches, plus the class token unless <see cref="NoEmbedClass"/> (register
    /// tokens never have one).
    /// </summary>
    public int PosEmbedLength => NumPatches + (NoEmbedClass ? 0 : ClassToken ? 1 : 0);
    /// <summary>Prefix rows of <c>pos_embed</c> (0 or 1), timm's <c>num_prefix_tokens</c> argument of the resampler.</summary>
    public int PosEmbedPrefixLength => PosEmbedLength - NumPatches;
    /// <summary>MLP hidden width.</summary>
    public int MlpHiddenDim => (int)(EmbedDim * MlpRatio);
    /// <summary>Whether the final norm is applied after pooling (resolved <see cref="FcNorm"/>).</summary>
    public bool UseFcNorm => FcNorm ?? GlobalPool == GlobalPool.Avg;

    /// <summary>
    /// FLOPs (2 per multiply-accumulate) of the matmuls and convolutions in one image's forward pass at
    /// <see cref="ImgSize"/>; norms, softmax, GELU, BatchNorm and element-wise ops are not counted. With T tokens
    /// (class + register + P patches), width D, MLP width Hm, K classes:
    /// patch embedding 2·P·C·p²·D (the conv stem instead: 2·S²·(49·C·c + 2·9·c·c) + 2·P·c·(p/2)²·D on its S×S
    /// map), per block 2·T·D·3D (qkv) + 2·T²·D (q·kᵀ) + 2·T²·D (attn·v) + 2·T·D² (proj) + 2·2·T·D·Hm (fc1, fc2),
    /// the head 2·D·K and, with <see cref="ReturnDense"/>, the aux head 2·P·D·K.
    /// ViT-S/16 gives 9.20 GFLOP = 4.60 GMACs, the figure timm's model card gives for DeiT-S/16 (same shape).
    /// Adaptive Noise Filters add their gate and conv (<see cref="AdaptiveNoiseFilterConfig.ForwardFlops"/>); STA and
    /// [CLS]/patch specialization add none (VitConfig.PaperOptions.cs).
    /// </summary>
    public double ForwardMatmulFlops()
    {
        double t = NumTokens, d = EmbedDim, hm = MlpHiddenDim, p = PatchSize, n = NumPatches, c = StemChannels;
        double embed;
        if (EmbedLayer == EmbedLayer.ConvStem)
        {
            double s = StemSize;
            embed = 2 * s * s * (49 * InChans * c + 2 * 9 * c * c) + 2 * n * c * (p / 2) * (p / 2) * d;
        }
        else
        {
            embed = 2 * n * InChans * p * p * d;
        }
        var block = 2 * t * d * 3 * d + 2 * t * t * d + 2 * t * t * d + 2 * t * d * d + 2 * 2 * t * d * hm;
        var head = 2.0 * d * NumClasses;
        var aux = ReturnDense ? 2.0 * n * d * NumClasses : 0;
        return embed + Depth * block + head + aux + PaperOptionsFlops();
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
        Require(InterpolateOffset is null or >= 0 and < 1, $"interpolate_offset {InterpolateOffset} must lie in [0, 1) or be null");
        Require(MlpRatio > 0, $"mlp ratio {MlpRatio} must be positive");
        Require(ClassToken || GlobalPool != GlobalPool.Token, "global pool 'token' needs a class token");
        foreach (var (name, p) in new[] { ("drop path", DropPathRate), ("drop", DropRate), ("pos drop", PosDropRate), ("proj drop", ProjDropRate), ("attn drop", AttnDropRate) })
            Require(p >= 0 && p < 1, $"{name} rate {p} must be in [0, 1)");
        Require(PosEmbedInitStd >= 0, $"pos-embed init std {PosEmbedInitStd} is negative");
        Require(InitValues is null || InitValues > 0, $"layer-scale init value {InitValues} must be positive (or null to disable)");
        Require(RegTokens >= 0, $"reg_tokens {RegTokens} is negative");
        Require(ClsTokenInitStd >= 0, $"cls-token init std {ClsTokenInitStd} is negative");
        ValidateTokenLabeling(Require);
        ValidatePaperOptions();
    }
}
