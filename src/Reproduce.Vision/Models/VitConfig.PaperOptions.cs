namespace Reproduce.Vision.Models;

/// <summary>
/// The options of the STA/ANF paper (arXiv 2509.19687) and the [CLS]/patch specialization paper (arXiv 2602.08626) on
/// any <see cref="VisionTransformer"/>: each is off (null) by default and is a nested section of the run's <c>model</c>
/// keys (<c>model.sta={}</c> switches STA on with its defaults, <c>model.anf.kernel_size=5</c> switches ANF on and sets
/// one key, <c>model.specialization=null</c> switches it off). Their parameters and FLOPs enter <see cref="ParamCount"/>
/// and <see cref="Gflops"/>.
/// </summary>
public sealed partial record VitConfig
{
    /// <summary>Structured Token Augmentation on the patch tokens (arXiv 2509.19687); null = off.</summary>
    public StructuredTokenAugmentationConfig? Sta { get; init; }
    /// <summary>Adaptive Noise Filtering between blocks (arXiv 2509.19687); null = off.</summary>
    public AdaptiveNoiseFilterConfig? Anf { get; init; }
    /// <summary>[CLS]/patch specialization (arXiv 2602.08626); null = off.</summary>
    public ClsSpecializationConfig? Specialization { get; init; }

    private void ValidatePaperOptions()
    {
        Sta?.Validate();
        Anf?.Validate(Depth);
        Specialization?.Validate(this);
        if (Sta is { NoiseSpace: StaNoiseSpace.Pixel } && EmbedLayer == EmbedLayer.ConvStem)
            throw new ArgumentException("VitConfig: STA's pixel-space noise needs the plain convolutional patch embedding, not the conv stem");
    }

    /// <summary>FLOPs of the Adaptive Noise Filters (<see cref="AdaptiveNoiseFilterConfig.ForwardFlops"/>); STA and specialization add none.</summary>
    private double PaperOptionsFlops() => Anf?.ForwardFlops(this) ?? 0;

    /// <summary>
    /// Parameters the paper options add: per Adaptive Noise Filter the conv (D·k + D on the sequence, D·k² + D on the
    /// grid, k + 1 over channels), the gate D·G + G (G = D or 1) and its norm 2D; per specialized block 4D (norms),
    /// 2D (layer scales, when the model has them), the class path of QKV (3D² + 3D bias, or r·(D + 3D) for LoRA), proj
    /// (D² + D, or r·2D) and MLP (2·D·Hm + Hm + D, or 2·r·(D + Hm)); 2D for the final norm's class path.
    /// </summary>
    private long PaperOptionsParamCount()
    {
        long d = EmbedDim, hm = MlpHiddenDim, total = 0;
        if (Anf is { } anf)
        {
            long k = anf.KernelSize;
            var conv = anf.ConvAxis switch
            {
                AnfConvAxis.Sequence => d * k + d,
                AnfConvAxis.Grid2d => d * k * k + d,
                _ => k + 1,
            };
            var gate = anf.Gate == AnfGate.Channel ? d * d + d : d + 1;
            total += anf.ResolveAfterBlocks(Depth).Length * (conv + gate + 2 * d);
        }
        if (Specialization is { } spec)
        {
            for (var i = 0; i < Depth; i++)
            {
                var b = spec.ForBlock(i, Depth, NumPrefixTokens);
                if (b.Norms) total += 4 * d;
                if (b.LayerScales && InitValues is not null) total += 2 * d;
                if (b.Qkv) total += b.LoraRank is { } r ? r * (d + 3 * d) : 3 * d * d + (QkvBias ? 3 * d : 0);
                if (b.Proj) total += b.LoraRank is { } r ? r * 2 * d : d * d + d;
                if (b.Mlp) total += b.LoraRank is { } r ? 2 * r * (d + hm) : 2 * d * hm + hm + d;
            }
            if (spec.Norms && !UseFcNorm) total += 2 * d;
        }
        return total;
    }
}
