namespace Reproduce.Vision.Models;

/// <summary>Analytic parameter count and GFLOPs of <see cref="VitConfig"/> (the FLOP formula, <see cref="VitConfig.ForwardMatmulFlops"/>, is in VitConfig.cs).</summary>
public sealed partial record VitConfig
{
    /// <summary>Side of the conv stem's feature map (7×7 convolution, stride 2, padding 3) at <see cref="ImgSize"/>.</summary>
    public int StemSize => (ImgSize + 2 * 3 - 7) / 2 + 1;

    /// <summary>
    /// Trainable parameters of the model this configuration builds, counted from the layout (a test checks it
    /// against <c>Module.ParameterCount()</c> for every registered model): patch embedding (D·C·p² + D, or the
    /// conv stem c·C·49 + 2c + 2(9c² + 2c) + D·c·(p/2)² + D with its BatchNorm affine parameters), class and
    /// register tokens, <c>pos_embed</c>, per block 2D + 3D² (+3D qkv bias) + D² + D (+D layer scale) + 2D +
    /// 2·D·Hm + Hm + D (+D layer scale), the final norm 2D, the head D·K + K and, with
    /// <see cref="ReturnDense"/>, the aux head D·K + K, plus the STA/ANF and specialization options
    /// (VitConfig.PaperOptions.cs). BatchNorm running statistics are buffers, not counted.
    /// </summary>
    public long ParamCount()
    {
        long d = EmbedDim, hm = MlpHiddenDim, k = NumClasses, c = StemChannels, p = PatchSize;
        var embed = EmbedLayer == EmbedLayer.ConvStem
            ? c * InChans * 49 + 2 * c + 2 * (9 * c * c + 2 * c) + d * c * (p / 2) * (p / 2) + d
            : d * InChans * p * p + d;
        var tokens = ((ClassToken ? 1 : 0) + RegTokens + (long)PosEmbedLength) * d;
        var block = 2 * d + 3 * d * d + (QkvBias ? 3 * d : 0) + d * d + d + (InitValues is null ? 0 : 2 * d)
            + 2 * d + 2 * d * hm + hm + d;
        var head = k > 0 ? d * k + k : 0;
        return embed + tokens + Depth * block + 2 * d + head + (ReturnDense ? head : 0) + PaperOptionsParamCount();
    }

    /// <summary>
    /// <see cref="ForwardMatmulFlops"/> in the tables' convention (fvcore, timm, the papers): GMACs,
    /// i.e. FLOPs / 2 / 10⁹. DeiT-S/16 at 224: 4.60; ViT-B/16: 17.58; LV-ViT-S: 6.55 (PaddleViT lists 6.6).
    /// </summary>
    public double Gflops() => ForwardMatmulFlops() / 2e9;
}
