using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// [CLS]/patch-specialized LayerScale (arXiv 2602.08626, specialized "in all blocks" with the norms):
/// LS_t(x) = γ_t ⊙ x for t ∈ {cls, patch}. Holds γ_cls (key <c>gamma</c>), registered beside the shared
/// layer scale as <c>blocks.N.ls1_cls</c> / <c>blocks.N.ls2_cls</c>; the patch path is the shared
/// <see cref="LayerScale"/> (<c>blocks.N.ls1.gamma</c>). Exists only where the model has layer scale.
/// </summary>
public sealed class SpecializedLayerScale : Module
{
    /// <summary>γ_cls [D].</summary>
    public Parameter Gamma { get; }
    /// <summary>Leading tokens on the class path.</summary>
    public int ClsTokens { get; }
    /// <summary>The initial value used by <see cref="ResetParameters"/> (the model's <c>init_values</c>).</summary>
    public double InitValues { get; }

    /// <summary>Creates γ_cls = <paramref name="initValues"/> everywhere.</summary>
    public SpecializedLayerScale(long dim, double initValues, int clsTokens = 1, Device? device = null)
    {
        if (clsTokens < 1) throw new ArgumentException($"SpecializedLayerScale: {clsTokens} class-path tokens (need ≥ 1)");
        using var s = Scope.Enter();
        (ClsTokens, InitValues) = (clsTokens, initValues);
        Gamma = RegisterParameter("gamma", Torch.Torch.Full([dim], initValues, device: device));
    }

    /// <summary>Branch output [B, N, D] → γ_cls ⊙ x on the first <see cref="ClsTokens"/>, <paramref name="patchScale"/> on the rest.</summary>
    public Tensor Forward(Tensor tokens, LayerScale patchScale)
    {
        TokenSplit.Check(tokens, ClsTokens, Gamma.Size(0), nameof(SpecializedLayerScale));
        using var s = Scope.Enter();
        var cls = TokenSplit.Head(tokens, ClsTokens).Mul(Gamma);
        var patches = patchScale.Forward(TokenSplit.Tail(tokens, ClsTokens));
        return s.MoveOut(TokenSplit.Join(cls, patches));
    }

    /// <summary>Conversion init: γ_cls ← γ_patch.</summary>
    public void CopyFrom(LayerScale shared)
    {
        using var _ = Torch.Torch.NoGrad();
        Gamma.Copy_(shared.Gamma);
    }

    /// <summary>γ_cls = <see cref="InitValues"/>.</summary>
    public void ResetParameters() => Init.Constant_(Gamma, InitValues);
}
