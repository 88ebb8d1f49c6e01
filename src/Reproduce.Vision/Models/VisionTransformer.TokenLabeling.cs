using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;
using Reproduce.Vision.Tokens;

namespace Reproduce.Vision.Models;

/// <summary>
/// What the token-labeling training forward returns (TokenLabeling's <c>(x_cls, x_aux, (bbx1, bby1, bbx2, bby2))</c>).
/// </summary>
/// <param name="ClsLogits">Class-token logits [B, K] (scored against the class target mixed by
/// <see cref="MixTokenBox.ClassTargetWeight"/>).</param>
/// <param name="AuxLogits">Patch-token logits [B, N, K] from <c>aux_head</c>, already swapped back, so row
/// (i, r·W + c) belongs to image i's own patch (r, c) and is scored against image i's token label there.</param>
/// <param name="Box">The MixToken box (empty when nothing was mixed).</param>
public sealed record TokenLabelingOutput(Tensor ClsLogits, Tensor AuxLogits, MixTokenBox Box);

/// <summary>Token labeling and MixToken ("All Tokens Matter", Jiang et al. 2021) on any <see cref="VisionTransformer"/>.</summary>
public sealed partial class VisionTransformer
{
    /// <summary>
    /// <c>aux_head</c>: Linear(D → K) on every patch token (<see cref="VitConfig.ReturnDense"/>), or null.
    /// Initialised like every Linear (truncated normal .02, zero bias), as TokenLabeling does.
    /// </summary>
    public Linear? AuxHead { get; }

    /// <summary>Draws the MixToken boxes of training forwards (seeded by <see cref="Torch.Torch.ManualSeed"/>).</summary>
    public MixToken MixTokenSampler { get; }

    /// <summary>Class-token (pooled) logits [B, K]: pool, <c>fc_norm</c>, dropout, <c>head</c>.</summary>
    public Tensor ClassLogits(Tensor tokens)
    {
        using var s = Scope.Enter();
        return s.MoveOut(Head.Call(PreLogits(tokens)));
    }

    /// <summary>Patch-token logits [B, N, K]: <c>aux_head</c> on the normalised tokens after the prefix tokens.</summary>
    public Tensor AuxLogits(Tensor tokens)
    {
        if (AuxHead is null)
            throw new InvalidOperationException("VisionTransformer.AuxLogits: the model has no aux_head (set return_dense=true)");
        using var s = Scope.Enter();
        return s.MoveOut(AuxHead.Forward(tokens.Slice(1, NumPrefixTokens, null)));
    }

    /// <summary>
    /// The token-labeling training forward (TokenLabeling's <c>LV_ViT.forward</c> in training mode, paper
    /// §3.1–3.2): patch grid → MixToken (the box cut on the token grid, tokens inside it taken from the flipped
    /// batch) → class token, position embedding, blocks, norm → class logits from <c>head</c> and patch
    /// logits from <c>aux_head</c>, swapped back inside the box. The loss is
    /// L = H(X_cls, λ·y + (1−λ)·y_flip) + β·(1/N)·Σᵢ H(Xᵢ, yᵢ) with λ = <see cref="MixTokenBox.ClassTargetWeight"/>
    /// (paper Eq. 5–6; the reference code uses β = <c>dense_weight</c> = 1).
    /// </summary>
    /// <param name="images">Images [B,C,H,W].</param>
    /// <param name="box">The box to mix with. Null: in training mode with <see cref="VitConfig.MixToken"/> one is
    /// drawn by <see cref="MixTokenSampler"/>, otherwise nothing is mixed. A given box is applied in any mode.</param>
    public TokenLabelingOutput ForwardTokenLabeling(Tensor images, MixTokenBox? box = null)
    {
        if (AuxHead is null)
            throw new InvalidOperationException("VisionTransformer.ForwardTokenLabeling: the model has no aux_head (set return_dense=true)");
        using var s = Scope.Enter();
        var grid = EmbedGrid(images); // patch embedding (+ STA when on), before MixToken
        int h = (int)grid.Size(2), w = (int)grid.Size(3);
        box ??= Training && Config.MixToken ? MixTokenSampler.Sample(h, w) : MixTokenBox.Empty(h, w);
        if (box.GridHeight != h || box.GridWidth != w)
            throw new ArgumentException($"VisionTransformer.ForwardTokenLabeling: the MixToken box is for a {box.GridHeight}x{box.GridWidth} grid, the images give {h}x{w}");
        if (!box.IsEmpty) grid = MixToken.Mix(grid, box);
        var tokens = ForwardGridFeatures(grid);
        var cls = ClassLogits(tokens);
        var aux = AuxLogits(tokens);
        if (!box.IsEmpty) aux = MixToken.SwapBack(aux, box);
        return new TokenLabelingOutput(s.MoveOut(cls), s.MoveOut(aux), box);
    }
}
