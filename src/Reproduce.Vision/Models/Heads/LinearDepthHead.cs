using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Heads;

/// <summary>
/// DINOv2's linear depth probe (<c>BNHead</c> with <c>classify=True</c>, dinov2/hub/depth/decode_heads.py and
/// dinov2/hub/depthers.py; docs/protocols/dense-probes.md §5.2). For each chosen block, the class token is broadcast over the patch grid
/// and concatenated to the patch map (2·D channels: patches first, then the class token); every map is bilinearly
/// resized to <see cref="Upsample"/>× the first map's size (align_corners = false) and the maps are concatenated; a 1×1
/// conv <c>conv_depth</c> gives <see cref="NumBins"/> logits per location; with the "linear" normalisation
/// p_k = (ReLU(l_k) + 0.1) / Σ_j (ReLU(l_j) + 0.1) over bins b_k = linspace(min, max, bins) ("UD", uniform), the depth is
/// d = Σ_k p_k·b_k, a convex combination, so min ≤ d ≤ max. There is no BatchNorm (DINOv2's <c>bn</c> line is commented
/// out). <see cref="Predict"/> then clamps to [min, max] and bilinearly resizes to the image size as DINOv2's
/// <c>DepthEncoderDecoder</c>. Key: <c>conv_depth.*</c> (PyTorch's default conv init, as DINOv2).
/// </summary>
public sealed class LinearDepthHead : Module
{
    /// <summary>The per-location bin classifier (1×1 conv, 2·D·layers → bins).</summary>
    public Conv2d ConvDepth { get; }
    /// <summary>Backbone width D.</summary>
    public int EmbedDim { get; }
    /// <summary>Number of backbone layers read (1 for lin1, 4 for lin4).</summary>
    public int NumLayers { get; }
    /// <summary>Number of depth bins (DINOv2: 256).</summary>
    public int NumBins { get; }
    /// <summary>Smallest depth, metres (DINOv2: 1e-3).</summary>
    public double MinDepth { get; }
    /// <summary>Largest depth, metres (DINOv2: 10 for NYUv2; 80 for KITTI).</summary>
    public double MaxDepth { get; }
    /// <summary>Upsampling factor of the features before the conv (DINOv2: 4).</summary>
    public int Upsample { get; }

    /// <summary>Creates the head (DINOv2's defaults: 256 bins, 1e-3 … 10 m, ×4 upsampling).</summary>
    public LinearDepthHead(int embedDim, int numLayers, double minDepth = 1e-3, double maxDepth = 10, int numBins = 256, int upsample = 4, Device? device = null)
    {
        if (embedDim <= 0 || numLayers <= 0 || numBins < 2 || upsample < 1)
            throw new ArgumentException($"LinearDepthHead: width {embedDim}, layers {numLayers}, bins {numBins} (≥ 2) and upsample {upsample} must be positive");
        if (!(minDepth < maxDepth)) throw new ArgumentException($"LinearDepthHead: min depth {minDepth} must be below max depth {maxDepth}");
        (EmbedDim, NumLayers, NumBins, MinDepth, MaxDepth, Upsample) = (embedDim, numLayers, numBins, minDepth, maxDepth, upsample);
        ConvDepth = Register("conv_depth", new Conv2d(2 * embedDim * numLayers, numBins, 1, device: device));
    }

    /// <summary>A head for a ViT of width <paramref name="embedDim"/> reading <paramref name="layers"/>; NYUv2 range by default.</summary>
    public static LinearDepthHead ForVit(int embedDim, ProbeLayers layers, double minDepth = 1e-3, double maxDepth = 10, Device? device = null) =>
        new(embedDim, layers == ProbeLayers.Lin1 ? 1 : 4, minDepth, maxDepth, device: device);

    /// <summary>The bin centres b_k = linspace(min, max, bins) [bins], in the dtype and on the device of <paramref name="like"/>.</summary>
    public Tensor Bins(Tensor like) => Torch.Torch.Linspace(MinDepth, MaxDepth, NumBins, like.DType, like.Device);

    /// <summary>Per-layer (patch map [B, D, h, w], class token [B, D]) → the concatenated, upsampled features [B, 2·D·L, U·h₀, U·w₀].</summary>
    public Tensor Features(IReadOnlyList<IntermediateLayer> layers)
    {
        if (layers.Count != NumLayers)
            throw new ArgumentException($"LinearDepthHead: {layers.Count} layers for a head over {NumLayers}");
        using var s = Scope.Enter();
        var maps = layers.Select(l =>
        {
            if (l.ClassToken is null) throw new ArgumentException("LinearDepthHead: the depth probe needs the class token (a backbone with one)");
            var p = l.Patches;
            if (p.Size(1) != EmbedDim) throw new ArgumentException($"LinearDepthHead: patch map {p.Describe()} is not {EmbedDim} wide");
            var cls = l.ClassToken.Unsqueeze(-1).Unsqueeze(-1).ExpandAs(p);
            return Tensor.Cat([p, cls], 1);
        }).ToArray();
        var first = maps[0].Shape;
        return s.MoveOut(DecodeHeads.ResizeConcat(maps, first[2] * Upsample, first[3] * Upsample));
    }

    /// <summary>Features → bin probabilities [B, bins, H', W'] with the "linear" normalisation (ReLU + 0.1, then sum to 1).</summary>
    public Tensor BinProbabilities(Tensor features)
    {
        using var s = Scope.Enter();
        var logits = F.Relu(ConvDepth.Forward(features)).Add(0.1);
        return s.MoveOut(logits.Div(logits.Sum(1, keepDim: true)));
    }

    /// <summary>Layers → depth [B, 1, U·h₀, U·w₀] = Σ_k p_k·b_k (DINOv2's <c>depth_pred</c>).</summary>
    public Tensor Forward(IReadOnlyList<IntermediateLayer> layers)
    {
        using var s = Scope.Enter();
        var p = BinProbabilities(Features(layers));
        var bins = Bins(p).Reshape(1, NumBins, 1, 1);
        return s.MoveOut(p.Mul(bins).Sum(1, keepDim: true));
    }

    /// <summary>Layers → depth clamped to [min, max] and bilinearly resized to <paramref name="height"/>×<paramref name="width"/> (DINOv2's inference).</summary>
    public Tensor Predict(IReadOnlyList<IntermediateLayer> layers, long height, long width)
    {
        using var s = Scope.Enter();
        var d = Forward(layers).Clamp(MinDepth, MaxDepth);
        return s.MoveOut(DecodeHeads.Resize(d, height, width));
    }
}
