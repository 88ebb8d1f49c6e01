using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// The class-token path of a [CLS]/patch-specialized linear layer (arXiv 2602.08626): f_t(x) = W_t·x + b_t for
/// t ∈ {cls, patch}, e.g. the QKV projection QKV_t(x) = W_t·x in the first third of the blocks. The patch path
/// is the shared <see cref="Linear"/> it is registered beside (<c>attn.qkv</c> → <c>attn.qkv_cls</c>,
/// <c>attn.proj</c> → <c>attn.proj_cls</c>, <c>mlp.fc1</c> → <c>mlp_cls.fc1</c>). Two forms:
/// <list type="bullet">
/// <item><b>full</b> (rank null): separate W_cls, b_cls (keys <c>weight</c>, <c>bias</c>, shaped as the shared layer's);</item>
/// <item><b>low rank</b> (LoRA, rank r): f_cls(x) = f_patch(x) + (α/r)·B·A·x with A [r, in] and B [out, r]
/// (keys <c>lora_a</c>, <c>lora_b</c>), the paper's f_cls = f_patch + f_cls^(r). The paper gives neither the
/// ranks nor a scale (not found, docs/papers/specialization.md §3.1); α defaults to r, i.e. no scaling, as the formula is written.
/// A is initialised as LoRA does (Kaiming-uniform, a = √5) and B = 0, so a fresh update is zero.</item>
/// </list>
/// The shared layer runs over all N tokens and the first k rows of its output are then replaced (full) or
/// updated (low rank): the patch rows are bit-identical to the unspecialized layer's, at the cost of
/// k/N extra rows (0.5% of this layer at 197 tokens).
/// </summary>
public sealed class SpecializedLinear : Module
{
    /// <summary>W_cls [out, in] (full form), or null.</summary>
    public Parameter? Weight { get; }
    /// <summary>b_cls [out] (full form, when the shared layer has a bias), or null.</summary>
    public Parameter? Bias { get; }
    /// <summary>A [r, in] (low-rank form), or null.</summary>
    public Parameter? LoraA { get; }
    /// <summary>B [out, r] (low-rank form), or null.</summary>
    public Parameter? LoraB { get; }
    /// <summary>Rank r of the low-rank form; null for full copies.</summary>
    public int? Rank { get; }
    /// <summary>Scale α/r of the low-rank update (1 for the full form).</summary>
    public double LoraScale { get; }
    /// <summary>Leading tokens on the class path.</summary>
    public int ClsTokens { get; }

    /// <summary>
    /// Creates the class path of <paramref name="shared"/> (read for its shape only): full copies when
    /// <paramref name="rank"/> is null, else LoRA of that rank with scale α/r (<paramref name="loraAlpha"/> null: α = r).
    /// </summary>
    public SpecializedLinear(Linear shared, int clsTokens = 1, int? rank = null, double? loraAlpha = null, Device? device = null)
    {
        if (clsTokens < 1) throw new ArgumentException($"SpecializedLinear: {clsTokens} class-path tokens (need ≥ 1)");
        long outF = shared.Weight.Size(0), inF = shared.Weight.Size(1);
        if (rank is { } r && (r < 1 || r > Math.Min(inF, outF)))
            throw new ArgumentException($"SpecializedLinear: LoRA rank {r} must be in [1, {Math.Min(inF, outF)}] for a {inF}→{outF} layer");
        using var s = Scope.Enter();
        ClsTokens = clsTokens;
        Rank = rank;
        if (rank is { } rr)
        {
            LoraScale = (loraAlpha ?? rr) / rr;
            LoraA = RegisterParameter("lora_a", Torch.Torch.Zeros([rr, inF], device: device));
            LoraB = RegisterParameter("lora_b", Torch.Torch.Zeros([outF, rr], device: device));
        }
        else
        {
            LoraScale = 1;
            Weight = RegisterParameter("weight", Torch.Torch.Zeros([outF, inF], device: device));
            Bias = shared.Bias is not null ? RegisterParameter("bias", Torch.Torch.Zeros([outF], device: device)) : null;
        }
        ResetParameters();
    }

    /// <summary>
    /// Tokens [B, N, in] → [B, N, out]: <paramref name="patchLayer"/> on every token, the first
    /// <see cref="ClsTokens"/> rows replaced by W_cls·x + b_cls (full) or increased by (α/r)·B·A·x (low rank).
    /// </summary>
    public Tensor Forward(Tensor tokens, Linear patchLayer)
    {
        TokenSplit.Check(tokens, ClsTokens, patchLayer.Weight.Size(1), nameof(SpecializedLinear));
        using var s = Scope.Enter();
        var shared = patchLayer.Forward(tokens);
        var head = TokenSplit.Head(tokens, ClsTokens);
        Tensor cls;
        if (Weight is not null)
            cls = F.Linear(head, Weight, Bias);
        else
        {
            var update = F.Linear(F.Linear(head, LoraA!), LoraB!);
            if (LoraScale != 1) update = update.Mul(LoraScale);
            cls = TokenSplit.Head(shared, ClsTokens).Add(update);
        }
        return s.MoveOut(TokenSplit.Join(cls, TokenSplit.Tail(shared, ClsTokens)));
    }

    /// <summary>
    /// Conversion init, so the layer computes <paramref name="shared"/>'s function: full form W_cls ← W,
    /// b_cls ← b; low-rank form B ← 0 (A is left as it is, so training can start from it).
    /// </summary>
    public void CopyFrom(Linear shared)
    {
        using var s = Scope.Enter();
        using var _ = Torch.Torch.NoGrad();
        if (Weight is not null)
        {
            Weight.Copy_(shared.Weight);
            if (Bias is not null) Bias.Copy_(shared.Bias!);
        }
        else Init.Zeros_(LoraB!);
    }

    /// <summary>
    /// Fresh init: full form as timm's Linear (truncated normal, std .02, zero bias); low-rank form as LoRA
    /// (A Kaiming-uniform with a = √5, B = 0).
    /// </summary>
    public void ResetParameters()
    {
        if (Weight is not null)
        {
            Init.TruncNormal_(Weight, std: 0.02);
            if (Bias is not null) Init.Zeros_(Bias);
        }
        else
        {
            Init.KaimingUniform_(LoraA!, a: Math.Sqrt(5));
            Init.Zeros_(LoraB!);
        }
    }
}
