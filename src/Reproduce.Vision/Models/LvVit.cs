namespace Reproduce.Vision.Models;

/// <summary>
/// LV-ViT ("All Tokens Matter: Token Labeling for Training Better Vision Transformers", Jiang et al.,
/// NeurIPS 2021; zihangJiang/TokenLabeling <c>tlt/models/lvvit.py</c>) as <see cref="VitConfig"/> presets of
/// <see cref="VisionTransformer"/>. Shared by all sizes: patch 16, the 4-layer conv stem
/// (<see cref="EmbedLayer.ConvStem"/>), MLP ratio 3, no qkv bias, LayerNorm ε = 1e−5 (PyTorch's default, which
/// TokenLabeling uses), <c>cls_token</c> init std .02, <c>head</c> on the class token and <c>aux_head</c> on
/// every patch token (<c>return_dense</c>), MixToken in the training forward.
/// Published parameter counts (TokenLabeling README) follow from these layouts: T 8.53M, S 26.15M
/// (26.30M at 384), M 55.83M (56.03M at 384, 56.13M at 448), L 150.47M at 448 (150.66M at 512).
/// Drop path is 0 here, as in TokenLabeling's model functions; the training recipe sets it per size
/// (<see cref="PaperDropPathRate"/>). TokenLabeling's single <c>drop_rate</c> (0 in every published run) is
/// <see cref="VitConfig.PosDropRate"/> and <see cref="VitConfig.ProjDropRate"/> here; it has no head dropout.
/// </summary>
public static class LvVit
{
    private static VitConfig Base(int dim, int depth, int heads, double skipLam, int stemChannels) => new()
    {
        PatchSize = 16,
        EmbedDim = dim,
        Depth = depth,
        NumHeads = heads,
        MlpRatio = 3.0,
        QkvBias = false,
        EmbedLayer = EmbedLayer.ConvStem,
        StemChannels = stemChannels,
        SkipLam = skipLam,
        NormEps = 1e-5,
        ClsTokenInitStd = 0.02,
        ReturnDense = true,
        MixToken = true,
    };

    /// <summary>LV-ViT-T (<c>lvvit_t</c>): D 240, depth 12, 4 heads, skip_lam 1, stem 64.</summary>
    public static VitConfig Tiny => Base(240, 12, 4, 1.0, 64);
    /// <summary>LV-ViT-S (<c>lvvit_s</c>): D 384, depth 16, 6 heads, skip_lam 2, stem 64.</summary>
    public static VitConfig Small => Base(384, 16, 6, 2.0, 64);
    /// <summary>LV-ViT-M (<c>lvvit_m</c>): D 512, depth 20, 8 heads, skip_lam 2, stem 64.</summary>
    public static VitConfig Medium => Base(512, 20, 8, 2.0, 64);
    /// <summary>LV-ViT-L (<c>lvvit_l</c>): D 768, depth 24, 12 heads, skip_lam 3, stem 128 (<c>PatchEmbed4_2_128</c>).</summary>
    public static VitConfig Large => Base(768, 24, 12, 3.0, 128);

    /// <summary>
    /// Stochastic-depth rate of the published ImageNet runs, by size letter: T 0.1 (TokenLabeling issue 23),
    /// S 0.1, M 0.2, L 0.3 (README training commands).
    /// </summary>
    public static double PaperDropPathRate(char size) => char.ToUpperInvariant(size) switch
    {
        'T' => 0.1,
        'S' => 0.1,
        'M' => 0.2,
        'L' => 0.3,
        _ => throw new ArgumentException($"LvVit.PaperDropPathRate: unknown size '{size}' (T, S, M or L)"),
    };
}
