namespace Reproduce.Vision.Models;

/// <summary>What the Conv1D of <see cref="Layers.AdaptiveNoiseFilter"/> convolves over (docs/papers/sta-anf.md §2.5 <c>anf_conv_axis</c>: not stated by the paper).</summary>
public enum AnfConvAxis
{
    /// <summary>
    /// Default: a depthwise 1-D convolution along the patch-token sequence, i.e. the patch grid read row-major
    /// (neighbours are left/right in a row; the last patch of a row and the first of the next are neighbours
    /// too), zero-padded at both ends. Prefix tokens ([CLS], registers) are not on the grid and get no conv term.
    /// </summary>
    Sequence,
    /// <summary>A depthwise k×k 2-D convolution on the (square) patch grid, zero-padded; prefix tokens get no conv term.</summary>
    Grid2d,
    /// <summary>A 1-D convolution along each token's D channels (one k-tap kernel shared by all tokens, prefix tokens included).</summary>
    Channels,
}

/// <summary>The shape of the ANF gate σ(W·T + b) (docs/papers/sta-anf.md §2.5 <c>anf_gate_dim</c>: not stated by the paper).</summary>
public enum AnfGate
{
    /// <summary>Default: W is D→D, one gate per token and channel (the ⊙ in the formula multiplies like-shaped tensors).</summary>
    Channel,
    /// <summary>W is D→1, one gate per token, broadcast over its channels.</summary>
    Token,
}

/// <summary>
/// Adaptive Noise Filtering ("Enhancing Transformer-Based Vision Models: Addressing Feature Map Anomalies Through
/// Novel Optimization Strategies", Mamtani, arXiv 2509.19687): a learnable filter between transformer blocks,
/// T̂ = LayerNorm(T + Conv1D(T) ⊙ σ(W·T + b)) (docs/papers/sta-anf.md §2.2). The paper gives only this formula and the
/// placement "between transformer layers" (Block 1 → ANF → Block 2 → … → Block L); every other choice below
/// is ours, named and documented, and logged with each result.
/// <para>Cost (derived): a depthwise conv adds D·k + D parameters, a channel gate D² + D, the norm 2·D. On ViT-B/16
/// with k = 3 and a channel gate after 11 of the 12 blocks: 11 × 595,200 = 6.55M parameters (+7.6%) and 2·D² FLOPs
/// per token per filter against 24·D² + 4·T·D per block (+8.0% of a block, +7.3% of the forward), above the
/// paper's "only 5%"; the per-token gate (<see cref="AnfGate.Token"/>) costs ≈ 0.1%. Which one the paper used is
/// not stated.</para>
/// </summary>
public sealed record AdaptiveNoiseFilterConfig
{
    /// <summary>Conv1D kernel size k (odd, "same" zero padding); docs/papers/sta-anf.md §2.5 <c>anf_kernel_size</c>, not stated: 3 chosen.</summary>
    public int KernelSize { get; init; } = 3;
    /// <summary>What the convolution runs over (<c>anf_conv_axis</c>).</summary>
    public AnfConvAxis ConvAxis { get; init; } = AnfConvAxis.Sequence;
    /// <summary>Gate shape (<c>anf_gate_dim</c>).</summary>
    public AnfGate Gate { get; init; } = AnfGate.Channel;
    /// <summary>
    /// Indices of the blocks a filter follows (<c>anf_placement</c>); null = every block but the last ("between"
    /// blocks, as the paper's flow diagram draws it). The state-dict keys are <c>anf.&lt;block&gt;.*</c>.
    /// </summary>
    public int[]? AfterBlocks { get; init; }
    /// <summary>
    /// Standard deviation of the conv weights at init; 0 (default) zero-initialises the conv (weights and bias), so
    /// the filter starts as T̂ = LayerNorm(T) with γ = 1, β = 0: each token keeps its direction and is re-normalised,
    /// which leaves the next (pre-norm) block's branch inputs unchanged (LN∘LN = LN up to ε) — the filter starts as
    /// close to an identity as the formula's LayerNorm allows. The gate starts at W ~ trunc-normal(.02), b = 0.
    /// </summary>
    public double ConvInitStd { get; init; }

    /// <summary>The blocks a filter follows in a <paramref name="depth"/>-block model, ascending.</summary>
    public int[] ResolveAfterBlocks(int depth) =>
        AfterBlocks is { } b ? b.Distinct().Order().ToArray() : Enumerable.Range(0, Math.Max(0, depth - 1)).ToArray();

    /// <summary>
    /// Matmul/conv FLOPs (2 per multiply-accumulate) of all filters for one image of <paramref name="vit"/>, with T tokens,
    /// P patches, width D and gate width G (D or 1): per filter 2·T·D·G (gate) plus 2·P·D·k (sequence conv),
    /// 2·P·D·k² (grid conv) or 2·T·D·k (channel conv). Norm, sigmoid and element-wise ops are not counted.
    /// </summary>
    public double ForwardFlops(VitConfig vit)
    {
        double t = vit.NumTokens, p = vit.NumPatches, d = vit.EmbedDim, k = KernelSize;
        var gate = 2 * t * d * (Gate == AnfGate.Channel ? d : 1);
        var conv = ConvAxis switch
        {
            AnfConvAxis.Sequence => 2 * p * d * k,
            AnfConvAxis.Grid2d => 2 * p * d * k * k,
            _ => 2 * t * d * k,
        };
        return ResolveAfterBlocks(vit.Depth).Length * (gate + conv);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting inconsistent with a <paramref name="depth"/>-block model.</summary>
    public void Validate(int depth)
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException("AdaptiveNoiseFilterConfig: " + message);
        }
        Require(KernelSize >= 1 && KernelSize % 2 == 1, $"kernel size {KernelSize} must be odd and positive ('same' padding)");
        Require(ConvInitStd >= 0, $"conv init std {ConvInitStd} is negative");
        Require(Enum.IsDefined(ConvAxis) && Enum.IsDefined(Gate), $"unknown conv axis {ConvAxis} or gate {Gate}");
        foreach (var b in AfterBlocks ?? [])
            Require(b >= 0 && b < depth, $"block index {b} outside the model's {depth} blocks");
    }

    /// <inheritdoc/>
    public bool Equals(AdaptiveNoiseFilterConfig? other) =>
        other is not null && KernelSize == other.KernelSize && ConvAxis == other.ConvAxis && Gate == other.Gate &&
        ConvInitStd.Equals(other.ConvInitStd) &&
        (AfterBlocks is null ? other.AfterBlocks is null : other.AfterBlocks is not null && AfterBlocks.SequenceEqual(other.AfterBlocks));

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(KernelSize);
        h.Add(ConvAxis);
        h.Add(Gate);
        h.Add(ConvInitStd);
        foreach (var b in AfterBlocks ?? [-1]) h.Add(b);
        return h.ToHashCode();
    }
}
