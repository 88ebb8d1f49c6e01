using Reproduce.Training.Analysis;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Analysis;

/// <summary>Token analysis on hand-made tokens whose cosines and norms are known, and on a small ViT.</summary>
[Collection(nameof(SerialTests))]
public class TokenAnalysisTests
{
    private static Tensor Tokens(double[][] rows) =>
        Tensor.From<float>(rows.SelectMany(r => r.Select(v => (float)v)).ToArray(), [1, rows.Length, rows[0].Length]);

    [Fact]
    public void IdenticalTokensHaveCosineOneAndOrthogonalOnesZero()
    {
        using var scope = Scope.Enter();
        var same = Tokens([[1, 2, 3], [2, 4, 6], [0.5, 1, 1.5]]);
        Assert.Equal(1, TokenAnalysis.ClsPatchCosine(same, 1), 6);
        Assert.Equal(1, TokenAnalysis.PatchPatchCosine(same.Narrow(1, 1, 2)), 6);
        var orthogonal = Tokens([[1, 0, 0], [0, 3, 0], [0, 0, 2]]);
        Assert.Equal(0, TokenAnalysis.ClsPatchCosine(orthogonal, 1), 6);
        Assert.Equal(0, TokenAnalysis.PatchPatchCosine(orthogonal.Narrow(1, 1, 2)), 6);
        // cls·p: (1,0)·(1,1)/√2 = 1/√2 and (1,0)·(−1,0) = −1 → mean (1/√2 − 1)/2; patches: cos((1,1),(−1,0)) = −1/√2
        var mixed = Tokens([[1, 0], [1, 1], [-1, 0]]);
        Assert.Equal((1 / Math.Sqrt(2) - 1) / 2, TokenAnalysis.ClsPatchCosine(mixed, 1), 6);
        Assert.Equal(-1 / Math.Sqrt(2), TokenAnalysis.PatchPatchCosine(mixed.Narrow(1, 1, 2)), 6);
    }

    [Fact]
    public void LayerNormTurnsAPositiveCosineNegative()
    {
        // cls (3,1,1,1), patch (1,3,1,1): before, cos = 8/12 = 2/3. LN (γ = 1, β = 0) centres them: (1.5,−.5,−.5,−.5)
        // and (−.5,1.5,−.5,−.5), whose cosine is −1/3 (the scale 1/std cancels; ε = 1e-6 changes it below 1e-6).
        using var scope = Scope.Enter();
        var x = Tokens([[3, 1, 1, 1], [1, 3, 1, 1]]);
        Assert.Equal(2.0 / 3, TokenAnalysis.ClsPatchCosine(x, 1), 6);
        var ln = new LayerNorm(4, 1e-6);
        Assert.Equal(-1.0 / 3, TokenAnalysis.ClsPatchCosine(ln.Forward(x), 1), 5);
    }

    [Fact]
    public void NormStatisticsFlagOneHighNormTokenAmongSixtyFour()
    {
        using var scope = Scope.Enter();
        var rows = Enumerable.Range(0, 64).Select(i => i == 10 ? new double[] { 0, 100 } : [1, 0]).ToArray();
        var (mean, std, median, max, share, edges, counts) = TokenAnalysis.NormStatistics(Tokens(rows), new TokenAnalysisOptions(3, 10));
        Assert.Equal((63 + 100) / 64.0, mean, 9);
        Assert.Equal(Math.Sqrt((63 * Math.Pow(1 - mean, 2) + Math.Pow(100 - mean, 2)) / 64), std, 9);
        Assert.Equal(1, median, 9);
        Assert.Equal(100, max, 9);
        Assert.Equal(1 / 64.0, share, 12);
        Assert.Equal(11, edges.Length);
        Assert.Equal(100, edges[^1], 9);
        Assert.Equal(63, counts[0]);
        Assert.Equal(1, counts[^1]);
        Assert.Equal(64, counts.Sum());
    }

    [Fact]
    public void AnalyzeAViTMatchesItsOwnBlocksAndWritesJson()
    {
        using var scope = Scope.Enter();
        Torch.Torch.ManualSeed(3);
        using var vit = new VisionTransformer(new VitConfig { ImgSize = 16, PatchSize = 4, InChans = 3, NumClasses = 0, EmbedDim = 8, Depth = 3, NumHeads = 2 });
        var images = Torch.Torch.Randn([2, 3, 16, 16]);
        var stats = TokenAnalysis.Analyze(vit, images);
        Assert.Equal(3, stats.Count);
        Assert.True(vit.Training, "Analyze must restore training mode");
        vit.Eval();
        using (Torch.Torch.NoGrad())
        {
            var x = vit.EmbedTokens(images);
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(TokenAnalysis.ClsPatchCosine(x, 1), stats[i].ClsPatchCosineBefore, 9);
                Assert.Equal(TokenAnalysis.ClsPatchCosine(vit.Blocks[i].Norm1.Forward(x), 1), stats[i].ClsPatchCosineAfter, 9);
                x = vit.Blocks[i].Forward(x);
                Assert.Equal(x.Narrow(1, 1, 16).Norm(2, [-1L]).Max().ToDouble(), stats[i].NormMax, 5);
            }
        }
        foreach (var b in stats)
        {
            Assert.InRange(b.ClsPatchCosineBefore, -1, 1);
            Assert.InRange(b.PatchPatchCosineAfter, -1, 1);
            Assert.Equal(2 * 16, b.HistogramCounts.Sum());
        }
        var json = TokenAnalysis.ToJson(stats, new TokenAnalysisOptions());
        Assert.Equal(3, json["blocks"]!.AsArray().Count);
        Assert.Contains("mean + 3", json["outlier_rule"]!.GetValue<string>());
    }
}
