using System.Globalization;

namespace Reproduce.Vision.Models;

/// <summary>A half-open range [Start, End) of block indices.</summary>
/// <param name="Start">First block in the range.</param>
/// <param name="End">One past the last block.</param>
public readonly record struct BlockRange(int Start, int End)
{
    /// <summary>No block.</summary>
    public static BlockRange None => new(0, 0);

    /// <summary>The first ⌊depth/3⌋ blocks: the paper's QKV range (4 of 12 blocks, 8 of 24), as lucidrains' <c>depth // 3</c>.</summary>
    public static BlockRange FirstThird(int depth) => new(0, depth / 3);

    /// <summary>Every block of a <paramref name="depth"/>-block model.</summary>
    public static BlockRange All(int depth) => new(0, depth);

    /// <summary>Number of blocks in the range.</summary>
    public int Count => Math.Max(0, End - Start);

    /// <summary>True when block <paramref name="index"/> is in the range.</summary>
    public bool Contains(int index) => index >= Start && index < End;

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"[{Start}, {End})");
}

/// <summary>
/// What one transformer block specializes for the [CLS] token (arXiv 2602.08626), resolved from
/// <see cref="ClsSpecializationConfig.ForBlock"/>. Attention stays joint over all tokens.
/// </summary>
public sealed record BlockSpecialization
{
    /// <summary>Leading tokens on the class path (1: the [CLS] token).</summary>
    public int ClsTokens { get; init; } = 1;
    /// <summary>Separate norm1/norm2 (<see cref="Layers.SpecializedLayerNorm"/>).</summary>
    public bool Norms { get; init; }
    /// <summary>Separate ls1/ls2 (<see cref="Layers.SpecializedLayerScale"/>; only when the block has layer scale).</summary>
    public bool LayerScales { get; init; }
    /// <summary>Separate QKV projection.</summary>
    public bool Qkv { get; init; }
    /// <summary>Separate attention output projection (ablation).</summary>
    public bool Proj { get; init; }
    /// <summary>Separate MLP (ablation).</summary>
    public bool Mlp { get; init; }
    /// <summary>LoRA rank of the specialized linear layers; null for full copies.</summary>
    public int? LoraRank { get; init; }
    /// <summary>LoRA α (scale α/r); null → α = r.</summary>
    public double? LoraAlpha { get; init; }

    /// <summary>True when anything is specialized.</summary>
    public bool Any => Norms || LayerScales || Qkv || Proj || Mlp;
}

/// <summary>
/// [CLS]/patch specialization of a <see cref="VisionTransformer"/> ("Revisiting [CLS] and Patch Token Interaction
/// in Vision Transformers", Marouani et al., arXiv 2602.08626, ICLR 2026): each specialized layer f gets
/// f_cls and f_patch with the same structure and separate parameters; attention is still computed jointly
/// over all tokens. Defaults are the paper's main model: LayerNorm and LayerScale specialized in every block
/// and in the final norm, QKV specialized in the first third of the blocks, attn.proj and MLP shared.
/// <para>State-dict keys: the patch path keeps timm's keys (<c>blocks.N.norm1.weight</c>, <c>blocks.N.attn.qkv.weight</c>, …);
/// the class path adds <c>_cls</c> siblings: <c>blocks.N.norm1_cls.{weight,bias}</c>, <c>blocks.N.norm2_cls.*</c>,
/// <c>blocks.N.ls1_cls.gamma</c>, <c>blocks.N.ls2_cls.gamma</c>, <c>blocks.N.attn.qkv_cls.{weight,bias}</c> (or
/// <c>{lora_a,lora_b}</c>), <c>blocks.N.attn.proj_cls.*</c>, <c>blocks.N.mlp_cls.{fc1,fc2}.*</c> and <c>norm_cls.*</c>.
/// A plain timm checkpoint therefore loads with only the <c>_cls</c> keys missing
/// (<see cref="VisionTransformer.LoadUnspecializedStateDict"/> fills them from the shared weights).</para>
/// <para>Parameter overhead (derived): norms 4·D per block + 2·D final, layer scales 2·D per block, QKV
/// D·3D (+3D bias) per specialized block. ViT-B/16: +38,400 (norms, 0.044%) and +7,087,104 (QKV in 4 blocks),
/// +8.23% in all; the paper's "+0.05%" matches LN+LS on ViT-L (149,504 of 304M).</para>
/// </summary>
public sealed record ClsSpecializationConfig
{
    /// <summary>Separate LayerNorms (norm1, norm2) in every block and a separate final norm.</summary>
    public bool Norms { get; init; } = true;
    /// <summary>Separate LayerScales (ls1, ls2) in every block; no effect on a model without layer scale.</summary>
    public bool LayerScales { get; init; } = true;
    /// <summary>Blocks with a separate QKV projection, <c>[start, end]</c> (end exclusive); null = the first third, ⌊depth/3⌋ blocks (the paper; one summary says "first half", docs/papers/specialization.md §3.1).</summary>
    public BlockRange? QkvBlocks { get; init; }
    /// <summary>Blocks with a separate attention output projection (ablation; the paper found it worse than QKV); null = the first third.</summary>
    public BlockRange? ProjBlocks { get; init; } = BlockRange.None;
    /// <summary>Blocks with a separate MLP (ablation; the paper found no gain or harm); null = the first third.</summary>
    public BlockRange? MlpBlocks { get; init; } = BlockRange.None;
    /// <summary>
    /// Low-rank variant: the class path of every specialized linear layer (QKV, proj, MLP) is the shared layer
    /// plus a rank-r update, f_cls = f_patch + f_cls^(r) (docs/papers/specialization.md §3.1). Null: full separate weights.
    /// Norms and layer scales stay full (they are vectors). The paper's ranks are not found.
    /// </summary>
    public int? LoraRank { get; init; }
    /// <summary>LoRA α; the update is scaled by α/r. Null → α = r (scale 1, the formula as written).</summary>
    public double? LoraAlpha { get; init; }
    /// <summary>
    /// Initialise every class path from the shared weights after the model's init, so the model starts as
    /// (computes the same function as) the unspecialized one. This is TidalPaladin/vit's choice; the paper's
    /// own init is not found (docs/papers/specialization.md §3.1). False: fresh timm init for full copies, B = 0 for LoRA.
    /// </summary>
    public bool InitFromShared { get; init; } = true;
    /// <summary>
    /// Put register tokens on the class path too (all prefix tokens, not only [CLS]). The paper's treatment of
    /// registers is not found; default false: only the [CLS] token takes the class path.
    /// </summary>
    public bool RegistersOnClsPath { get; init; }

    /// <summary>LayerNorm + LayerScale specialization only (the paper's "+0.05% params" row).</summary>
    public static ClsSpecializationConfig NormsOnly => new() { QkvBlocks = BlockRange.None };

    /// <summary>The paper's main model: norms and layer scales everywhere, QKV in the first third.</summary>
    public static ClsSpecializationConfig Default => new();

    /// <summary>The QKV range for a <paramref name="depth"/>-block model.</summary>
    public BlockRange ResolveQkvBlocks(int depth) => Resolve(QkvBlocks, depth);

    private static BlockRange Resolve(BlockRange? range, int depth) =>
        range ?? BlockRange.FirstThird(depth);

    /// <summary>Leading tokens on the class path given the model's prefix tokens (class token + registers).</summary>
    public int ClsTokens(int numPrefixTokens) => RegistersOnClsPath ? numPrefixTokens : 1;

    /// <summary>What block <paramref name="index"/> of a <paramref name="depth"/>-block model specializes.</summary>
    public BlockSpecialization ForBlock(int index, int depth, int numPrefixTokens) => new()
    {
        ClsTokens = ClsTokens(numPrefixTokens),
        Norms = Norms,
        LayerScales = LayerScales,
        Qkv = ResolveQkvBlocks(depth).Contains(index),
        Proj = Resolve(ProjBlocks, depth).Contains(index),
        Mlp = Resolve(MlpBlocks, depth).Contains(index),
        LoraRank = LoraRank,
        LoraAlpha = LoraAlpha,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting inconsistent with <paramref name="vit"/>.</summary>
    public void Validate(VitConfig vit)
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException("ClsSpecializationConfig: " + message);
        }
        Require(vit.ClassToken, "[CLS]/patch specialization needs a class token");
        foreach (var (name, range) in new[] { ("qkv", QkvBlocks), ("proj", ProjBlocks), ("mlp", MlpBlocks) })
        {
            var r = Resolve(range, vit.Depth);
            Require(r.Count == 0 || (r.Start >= 0 && r.End <= vit.Depth), $"{name} blocks {r} outside the model's {vit.Depth} blocks");
        }
        Require(LoraRank is null || LoraRank > 0, $"LoRA rank {LoraRank} must be positive");
        Require(LoraAlpha is null || LoraAlpha > 0, $"LoRA alpha {LoraAlpha} must be positive");
    }
}
