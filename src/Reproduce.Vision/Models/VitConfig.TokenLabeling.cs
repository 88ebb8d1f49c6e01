namespace Reproduce.Vision.Models;

/// <summary>How images become patch tokens (<c>patch_embed</c>).</summary>
public enum EmbedLayer
{
    /// <summary>timm's <c>PatchEmbed</c>: one p×p convolution with stride p (ViT, DeiT).</summary>
    Patch,
    /// <summary>
    /// TokenLabeling's <c>PatchEmbed4_2</c> (<c>p_emb='4_2'</c>; <c>'4_2_128'</c> with 128 channels): three
    /// conv-BN-ReLU layers (7×7 stride 2, 3×3, 3×3; <see cref="VitConfig.StemChannels"/> channels, no bias),
    /// then a (p/2)×(p/2) stride-p/2 projection (LV-ViT, Jiang et al. 2021, §3 "Patch embedding").
    /// </summary>
    ConvStem,
}

/// <summary>The token-labeling options ("All Tokens Matter", Jiang et al., NeurIPS 2021) of <see cref="VitConfig"/>.</summary>
public sealed partial record VitConfig
{
    /// <summary>Patch embedding (TokenLabeling <c>p_emb</c>).</summary>
    public EmbedLayer EmbedLayer { get; init; } = EmbedLayer.Patch;
    /// <summary>Channels of the <see cref="EmbedLayer.ConvStem"/> convolutions: 64 (LV-ViT-T/S/M), 128 (LV-ViT-L).</summary>
    public int StemChannels { get; init; } = 64;
    /// <summary>
    /// Residual scaling of LV-ViT (TokenLabeling <c>skip_lam</c>): every block computes
    /// x ← x + attn(norm1(x))/skip_lam, then x ← x + mlp(norm2(x))/skip_lam. 1 is the plain ViT residual.
    /// </summary>
    public double SkipLam { get; init; } = 1.0;
    /// <summary>
    /// Token labeling (TokenLabeling <c>return_dense</c>): add <c>aux_head</c>, a Linear(D → classes) applied to
    /// every patch token, trained against the token labels (paper Eq. 5, L_tl = 1/N Σᵢ H(Xᵢ, yᵢ)).
    /// The prediction becomes class-token logits + <see cref="AuxLogitWeight"/> × the per-class maximum of
    /// the patch-token logits.
    /// </summary>
    public bool ReturnDense { get; init; }
    /// <summary>
    /// MixToken (TokenLabeling <c>mix_token</c>, paper §3.2): during training, a CutMix box drawn on the token
    /// grid swaps the patch tokens of each image with those of its partner in the flipped batch before the
    /// transformer, and the patch logits in the box are swapped back after it. Needs <see cref="ReturnDense"/>.
    /// </summary>
    public bool MixToken { get; init; }
    /// <summary>α = β of the Beta distribution MixToken draws λ from (TokenLabeling <c>self.beta</c> = 1).</summary>
    public double MixTokenBeta { get; init; } = 1.0;
    /// <summary>Weight of the patch-logit maximum in the prediction (TokenLabeling's eval branch: 0.5).</summary>
    public double AuxLogitWeight { get; init; } = 0.5;

    private void ValidateTokenLabeling(Action<bool, string> require)
    {
        require(SkipLam > 0, $"skip_lam {SkipLam} must be positive");
        require(EmbedLayer != EmbedLayer.ConvStem || (PatchSize % 2 == 0 && StemChannels > 0),
            $"the conv stem needs an even patch size and positive stem_channels (patch {PatchSize}, stem_channels {StemChannels})");
        require(!ReturnDense || NumClasses > 0, "return_dense (aux_head) needs num_classes > 0");
        require(!ReturnDense || !UseFcNorm, "return_dense (aux_head) reads the output of the final 'norm', which fc_norm replaces by an identity; set fc_norm=false");
        require(!MixToken || ReturnDense, "mix_token needs return_dense: the swapped-back patch logits are what MixToken trains");
        require(MixTokenBeta > 0, $"mix_token_beta {MixTokenBeta} must be positive");
    }
}
