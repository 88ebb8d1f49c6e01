using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// [CLS]/patch-specialized LayerNorm ("Revisiting [CLS] and Patch Token Interaction in Vision Transformers",
/// arXiv 2602.08626): LN_t(x) = γ_t ⊙ (x − E[x]) / √(Var[x] + ε) + β_t for t ∈ {cls, patch}, the statistics
/// taken per token over its D channels as in a plain LayerNorm.
/// <para>This module holds the class-token parameters γ_cls, β_cls (keys <c>weight</c>, <c>bias</c>) and is
/// registered beside the shared norm it specializes, with a <c>_cls</c> suffix: <c>blocks.N.norm1_cls.*</c>,
/// <c>blocks.N.norm2_cls.*</c>, <c>norm_cls.*</c>. The patch path is that shared norm itself (<c>blocks.N.norm1.*</c>),
/// so a plain timm checkpoint loads into the patch path unchanged and the class path is filled by
/// <see cref="CopyFrom"/>.</para>
/// </summary>
public sealed class SpecializedLayerNorm : Module
{
    /// <summary>γ_cls [D].</summary>
    public Parameter Weight { get; }
    /// <summary>β_cls [D].</summary>
    public Parameter Bias { get; }
    /// <summary>Leading tokens on the class path (1: the [CLS] token).</summary>
    public int ClsTokens { get; }
    /// <summary>Token width D.</summary>
    public long Dim { get; }
    /// <summary>ε of the class path (the model's norm epsilon, as for the shared norm).</summary>
    public double Eps { get; }

    /// <summary>Creates γ_cls = 1, β_cls = 0 (PyTorch's LayerNorm init).</summary>
    public SpecializedLayerNorm(long dim, int clsTokens = 1, double eps = 1e-6, Device? device = null)
    {
        if (clsTokens < 1) throw new ArgumentException($"SpecializedLayerNorm: {clsTokens} class-path tokens (need ≥ 1)");
        using var s = Scope.Enter();
        (Dim, ClsTokens, Eps) = (dim, clsTokens, eps);
        Weight = RegisterParameter("weight", Torch.Torch.Ones([dim], device: device));
        Bias = RegisterParameter("bias", Torch.Torch.Zeros([dim], device: device));
    }

    /// <summary>Tokens [B, N, D] → LN_cls on the first <see cref="ClsTokens"/>, <paramref name="patchNorm"/> on the rest.</summary>
    public Tensor Forward(Tensor tokens, LayerNorm patchNorm)
    {
        TokenSplit.Check(tokens, ClsTokens, Dim, nameof(SpecializedLayerNorm));
        using var s = Scope.Enter();
        var cls = F.LayerNorm(TokenSplit.Head(tokens, ClsTokens), [Dim], Weight, Bias, Eps);
        var patches = patchNorm.Forward(TokenSplit.Tail(tokens, ClsTokens));
        return s.MoveOut(TokenSplit.Join(cls, patches));
    }

    /// <summary>Conversion init: γ_cls ← γ_patch, β_cls ← β_patch, so the layer computes the shared norm's function.</summary>
    public void CopyFrom(LayerNorm shared)
    {
        if (shared.Weight is null || shared.Bias is null)
            throw new ArgumentException("SpecializedLayerNorm.CopyFrom: the shared LayerNorm has no affine parameters");
        using var s = Scope.Enter();
        using var _ = Torch.Torch.NoGrad();
        Weight.Copy_(shared.Weight);
        Bias.Copy_(shared.Bias);
    }

    /// <summary>γ_cls = 1, β_cls = 0.</summary>
    public void ResetParameters()
    {
        Init.Ones_(Weight);
        Init.Zeros_(Bias);
    }
}
