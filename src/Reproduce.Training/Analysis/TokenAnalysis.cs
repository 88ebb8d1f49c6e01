using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Analysis;

/// <summary>Options of <see cref="TokenAnalysis"/>.</summary>
/// <param name="OutlierSigmas">
/// A patch token is a high-norm outlier when ‖x‖ &gt; μ + k·σ of the patch-token norms of its block (over the whole
/// batch; σ the population standard deviation); k = 3 by default. The rule is ours: the registers paper describes the
/// artifacts only as tokens with roughly 10× the norm of the others (docs/papers/specialization.md §3.5), which this rule catches while
/// staying scale free. <see cref="BlockTokenStats.MaxOverMedian"/> reports the ratio that the 10× description refers to.
/// </param>
/// <param name="HistogramBins">Number of equal-width bins of the norm histogram over [0, max norm of the block].</param>
public sealed record TokenAnalysisOptions(double OutlierSigmas = 3, int HistogramBins = 20)
{
    /// <summary>Throws on options that cannot be used.</summary>
    public void Validate()
    {
        if (!(OutlierSigmas > 0)) throw new ArgumentException($"TokenAnalysis: outlier_sigmas must be positive (got {OutlierSigmas})");
        if (HistogramBins < 1) throw new ArgumentException($"TokenAnalysis: histogram_bins must be ≥ 1 (got {HistogramBins})");
    }
}

/// <summary>The analysis of one block (see <see cref="TokenAnalysis"/>).</summary>
/// <param name="Block">0-based block index.</param>
/// <param name="ClsPatchCosineBefore">Mean over images and patches of cos([CLS], patchᵢ) on the block input.</param>
/// <param name="ClsPatchCosineAfter">The same after the block's pre-attention LayerNorm (norm1, its class path when specialized).</param>
/// <param name="PatchPatchCosineBefore">Mean over images of the mean over pairs i ≠ j of cos(patchᵢ, patchⱼ), block input.</param>
/// <param name="PatchPatchCosineAfter">The same after norm1.</param>
/// <param name="NormMean">Mean L2 norm of the patch tokens at the block output.</param>
/// <param name="NormStd">Population standard deviation of those norms.</param>
/// <param name="NormMedian">Median of those norms.</param>
/// <param name="NormMax">Largest of those norms.</param>
/// <param name="MaxOverMedian">NormMax / NormMedian.</param>
/// <param name="OutlierShare">Share of patch tokens above μ + k·σ (<see cref="TokenAnalysisOptions.OutlierSigmas"/>).</param>
/// <param name="HistogramEdges">Bin edges (bins + 1 values) of the norm histogram.</param>
/// <param name="HistogramCounts">Token counts per bin (the last bin includes its right edge).</param>
public sealed record BlockTokenStats(int Block, double ClsPatchCosineBefore, double ClsPatchCosineAfter,
    double PatchPatchCosineBefore, double PatchPatchCosineAfter, double NormMean, double NormStd, double NormMedian,
    double NormMax, double MaxOverMedian, double OutlierShare, double[] HistogramEdges, long[] HistogramCounts);

/// <summary>
/// Token analyses of a ViT, per block, on a batch of images:
/// <list type="bullet">
/// <item>the [CLS]/patch specialization paper's measure (docs/papers/specialization.md §3.2): cos(a, b) = a·b / (‖a‖·‖b‖) between the class
/// token and every patch token, averaged over patches and images, on the block input and after the block's
/// pre-attention LayerNorm LN(x) = γ ⊙ (x − E[x]) / sqrt(Var[x] + ε) + β; also the mean pairwise cosine among patch tokens
/// (Σ_{i≠j} cos(pᵢ, pⱼ) / (P(P − 1)) per image), both before and after norm1;</item>
/// <item>the high-norm artifacts that registers, STA and ANF target (docs/papers/sta-anf.md §2, docs/papers/specialization.md §3.5): statistics of the patch-token
/// L2 norms at each block's output (mean, std, median, max, share above μ + k·σ, histogram).</item>
/// </list>
/// Register tokens are excluded from "patch tokens"; the class token is token 0. Runs in eval mode without gradients.
/// </summary>
public static class TokenAnalysis
{
    /// <summary>Analyses every block of <paramref name="model"/> on <paramref name="images"/> [B, C, H, W] (normalised).</summary>
    public static IReadOnlyList<BlockTokenStats> Analyze(VisionTransformer model, Tensor images, TokenAnalysisOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        options ??= new TokenAnalysisOptions();
        options.Validate();
        if (!model.Config.ClassToken)
            throw new ArgumentException("TokenAnalysis: the model has no class token; the [CLS]/patch analysis needs one");
        var wasTraining = model.Training;
        model.Eval();
        try
        {
            using var noGrad = Torch.Torch.NoGrad();
            using var s = Scope.Enter();
            var grid = model.EmbedGrid(images);
            var hw = ((int)grid.Size(2), (int)grid.Size(3));
            var x = model.GridTokens(grid);
            var prefix = model.NumPrefixTokens;
            var result = new List<BlockTokenStats>();
            for (var i = 0; i < model.Blocks.Count; i++)
            {
                using var blockScope = Scope.Enter();
                var block = model.Blocks[i];
                var normed = block.Norm1Cls?.Forward(x, block.Norm1) ?? block.Norm1.Forward(x);
                var next = model.ForwardBlock(i, x, hw);
                var norms = NormStatistics(next.Narrow(1, prefix, next.Size(1) - prefix), options);
                result.Add(new BlockTokenStats(i,
                    ClsPatchCosine(x, prefix), ClsPatchCosine(normed, prefix),
                    PatchPatchCosine(x.Narrow(1, prefix, x.Size(1) - prefix)), PatchPatchCosine(normed.Narrow(1, prefix, normed.Size(1) - prefix)),
                    norms.Mean, norms.Std, norms.Median, norms.Max, norms.Max / norms.Median, norms.OutlierShare, norms.Edges, norms.Counts));
                x = blockScope.MoveOut(next);
            }
            return result;
        }
        finally
        {
            if (wasTraining) model.Train();
        }
    }

    /// <summary>Tokens [B, N, D] (class token at 0) → mean over images and patch tokens (index ≥ <paramref name="prefix"/>) of cos(cls, patchᵢ).</summary>
    public static double ClsPatchCosine(Tensor tokens, int prefix)
    {
        RequireTokens(tokens, prefix);
        using var s = Scope.Enter();
        var t = Unit(tokens.To(ScalarType.Float64));
        var cls = t.Narrow(1, 0, 1);
        var patches = t.Narrow(1, prefix, t.Size(1) - prefix);
        return patches.Mul(cls).Sum(2).Mean().ToDouble();
    }

    /// <summary>Patch tokens [B, P, D] (P ≥ 2) → mean over images of the mean over ordered pairs i ≠ j of cos(pᵢ, pⱼ).</summary>
    public static double PatchPatchCosine(Tensor patches)
    {
        if (patches.Dim != 3 || patches.Size(1) < 2)
            throw new ArgumentException($"TokenAnalysis: patch tokens must be [B, P ≥ 2, D], got {patches.Describe()}");
        using var s = Scope.Enter();
        var u = Unit(patches.To(ScalarType.Float64));
        var p = u.Size(1);
        // Σ_{i≠j} uᵢ·uⱼ = ‖Σᵢ uᵢ‖² − Σᵢ ‖uᵢ‖² (uᵢ the unit tokens)
        var offDiagonal = u.Sum(1).Pow(2).Sum(1).Sub(u.Pow(2).Sum([1L, 2L]));
        return offDiagonal.Div((double)(p * (p - 1))).Mean().ToDouble();
    }

    /// <summary>Norm statistics of patch tokens [B, P, D] (all images together).</summary>
    public static (double Mean, double Std, double Median, double Max, double OutlierShare, double[] Edges, long[] Counts) NormStatistics(
        Tensor patches, TokenAnalysisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (patches.Dim != 3 || patches.Size(1) < 1)
            throw new ArgumentException($"TokenAnalysis: patch tokens must be [B, P, D], got {patches.Describe()}");
        double[] norms;
        using (Scope.Enter())
            norms = patches.To(ScalarType.Float64).Norm(2, [-1L]).Flatten().To(Device.Cpu).ToArray<double>();
        var mean = norms.Average();
        var std = Math.Sqrt(norms.Select(n => (n - mean) * (n - mean)).Average());
        var sorted = norms.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        var max = sorted[^1];
        var threshold = mean + options.OutlierSigmas * std;
        var share = norms.Count(n => n > threshold) / (double)norms.Length;
        var bins = options.HistogramBins;
        var top = max > 0 ? max : 1;
        var edges = Enumerable.Range(0, bins + 1).Select(k => top * k / bins).ToArray();
        var counts = new long[bins];
        foreach (var n in norms) counts[Math.Min(bins - 1, (int)(n / top * bins))]++;
        return (mean, std, median, max, share, edges, counts);
    }

    /// <summary>The analysis as JSON: {"options": …, "blocks": [ {block, cls_patch_cos_before, …}, … ]}.</summary>
    public static JsonObject ToJson(IReadOnlyList<BlockTokenStats> blocks, TokenAnalysisOptions options, JsonObject? meta = null)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        ArgumentNullException.ThrowIfNull(options);
        var array = new JsonArray();
        foreach (var b in blocks)
            array.Add(new JsonObject
            {
                ["block"] = b.Block,
                ["cls_patch_cos_before_norm1"] = b.ClsPatchCosineBefore,
                ["cls_patch_cos_after_norm1"] = b.ClsPatchCosineAfter,
                ["patch_patch_cos_before_norm1"] = b.PatchPatchCosineBefore,
                ["patch_patch_cos_after_norm1"] = b.PatchPatchCosineAfter,
                ["norm_mean"] = b.NormMean,
                ["norm_std"] = b.NormStd,
                ["norm_median"] = b.NormMedian,
                ["norm_max"] = b.NormMax,
                ["norm_max_over_median"] = b.MaxOverMedian,
                ["outlier_share"] = b.OutlierShare,
                ["norm_histogram_edges"] = new JsonArray(b.HistogramEdges.Select(e => (JsonNode?)e).ToArray()),
                ["norm_histogram_counts"] = new JsonArray(b.HistogramCounts.Select(c => (JsonNode?)c).ToArray()),
            });
        var root = meta is null ? new JsonObject() : (JsonObject)meta.DeepClone();
        root["outlier_rule"] = $"patch-token norm > mean + {options.OutlierSigmas}·std (per block, population std)";
        root["norm_statistics_at"] = "block output (patch tokens only)";
        root["histogram_bins"] = options.HistogramBins;
        root["blocks"] = array;
        return root;
    }

    private static Tensor Unit(Tensor t) => t.Div(t.Norm(2, [-1L], keepDim: true).Clamp(min: 1e-12));

    private static void RequireTokens(Tensor tokens, int prefix)
    {
        if (tokens.Dim != 3 || prefix < 1 || tokens.Size(1) <= prefix)
            throw new ArgumentException($"TokenAnalysis: tokens must be [B, N, D] with the class token first and patches after {prefix} prefix tokens, got {tokens.Describe()}");
    }
}
