using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Vision.Tests;

/// <summary>Adaptive Noise Filtering (arXiv 2509.19687): init, conv axes, placement, cost, gradients.</summary>
public class AdaptiveNoiseFilterTests
{
    private static AdaptiveNoiseFilter Filter(AnfConvAxis axis, AnfGate gate = AnfGate.Channel, int dim = 4, int prefix = 1, int k = 3) =>
        new(new AdaptiveNoiseFilterConfig { ConvAxis = axis, Gate = gate, KernelSize = k }, dim, prefix);

    [Theory]
    [InlineData(AnfConvAxis.Sequence)]
    [InlineData(AnfConvAxis.Grid2d)]
    [InlineData(AnfConvAxis.Channels)]
    public void StartsAsTheLayerNormOfItsInput(AnfConvAxis axis)
    {
        using var anf = Filter(axis, dim: 8);
        using var s = Scope.Enter();
        var t = Torch.Torch.Randn([2, 10, 8]).Mul(3.0).Add(1.0);
        Assert.True(anf.Forward(t).Equal(F.LayerNorm(t, [8], eps: 1e-6)));
        Assert.Equal(0.0, anf.Conv.Parameters().First().Abs().Max().ToDouble());
    }

    /// <summary>Saturates the gate (σ(50) = 1 in float32) and sets a conv kernel that copies one neighbour.</summary>
    private static void CopyNeighbour(AdaptiveNoiseFilter anf, Action<Tensor> setKernel)
    {
        using var s = Scope.Enter();
        using var _ = Torch.Torch.NoGrad();
        anf.Gate.Weight.Zero_();
        anf.Gate.Bias!.Fill_(50);
        var w = anf.Conv.Parameters().First();
        w.Zero_();
        setKernel(w);
    }

    [Fact]
    public void SequenceAxisConvolvesThePatchGridRowMajorAndSkipsTheClassToken()
    {
        using var anf = Filter(AnfConvAxis.Sequence);
        // Depthwise kernel [D, 1, 3]: tap 0 multiplies the previous token of the sequence.
        CopyNeighbour(anf, w => w.Select(2, 0).Fill_(1));
        using var s = Scope.Enter();
        var t = Torch.Torch.Randn([2, 1 + 9, 4]);
        var patches = t.Narrow(1, 1, 9);
        // Row-major 3×3 grid: patch j adds patch j−1 (also across row ends: patch 3 adds patch 2); patch 0 adds zero.
        var shifted = Tensor.Cat([Torch.Torch.Zeros([2, 1, 4]), patches.Narrow(1, 0, 8)], 1);
        var expected = F.LayerNorm(Tensor.Cat([t.Narrow(1, 0, 1), patches.Add(shifted)], 1), [4], eps: 1e-6);
        Assert.True(anf.Forward(t).Sub(expected).Abs().Max().ToDouble() < 1e-5);
    }

    [Fact]
    public void GridAxisConvolvesTheTwoDimensionalNeighbourhood()
    {
        using var anf = Filter(AnfConvAxis.Grid2d);
        // Depthwise kernel [D, 1, 3, 3]: tap (0, 1) multiplies the patch in the row above.
        CopyNeighbour(anf, w => w.Select(2, 0).Select(2, 1).Fill_(1));
        using var s = Scope.Enter();
        var t = Torch.Torch.Randn([2, 1 + 9, 4]);
        var patches = t.Narrow(1, 1, 9);
        var above = Tensor.Cat([Torch.Torch.Zeros([2, 3, 4]), patches.Narrow(1, 0, 6)], 1);
        var expected = F.LayerNorm(Tensor.Cat([t.Narrow(1, 0, 1), patches.Add(above)], 1), [4], eps: 1e-6);
        Assert.True(anf.Forward(t).Sub(expected).Abs().Max().ToDouble() < 1e-5);
        Assert.Throws<ArgumentException>(() => anf.Forward(Torch.Torch.Randn([1, 1 + 6, 4])));
    }

    [Fact]
    public void ChannelAxisConvolvesEachTokensFeatures()
    {
        using var anf = Filter(AnfConvAxis.Channels, AnfGate.Token);
        Assert.Equal([1L, 4], anf.Gate.Weight.Shape);
        CopyNeighbour(anf, w => w.Select(2, 0).Fill_(1));
        using var s = Scope.Enter();
        var t = Torch.Torch.Randn([2, 5, 4]);
        var shifted = Tensor.Cat([Torch.Torch.Zeros([2, 5, 1]), t.Narrow(2, 0, 3)], 2);
        var expected = F.LayerNorm(t.Add(shifted), [4], eps: 1e-6);
        Assert.True(anf.Forward(t).Sub(expected).Abs().Max().ToDouble() < 1e-5);
    }

    public static TheoryData<AnfConvAxis, AnfGate> Variants => new()
    {
        { AnfConvAxis.Sequence, AnfGate.Channel },
        { AnfConvAxis.Grid2d, AnfGate.Channel },
        { AnfConvAxis.Channels, AnfGate.Token },
        { AnfConvAxis.Sequence, AnfGate.Token },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void PassesGradientCheck(AnfConvAxis axis, AnfGate gate)
    {
        using var anf = new AdaptiveNoiseFilter(new AdaptiveNoiseFilterConfig { ConvAxis = axis, Gate = gate, ConvInitStd = 0.5 }, 3, 1);
        anf.To(ScalarType.Float64);
        using var s = Scope.Enter();
        using (Torch.Torch.NoGrad())
        using (var gen = new Generator(4))
            foreach (var p in anf.Parameters()) p.Add_(Torch.Torch.Randn(p.Shape, gen, ScalarType.Float64).Mul(0.3));
        using var r = new Inputs(8);
        var t = r.Randn(2, 1 + 4, 3);
        GradCheck.Check(x => anf.Forward(x[0]), t);
        // A channel-axis conv's bias adds the same value to every channel of a token; with a per-token gate that stays a
        // per-token constant, which the LayerNorm removes: its gradient is zero by construction, so it is left out.
        var redundantBias = axis == AnfConvAxis.Channels && gate == AnfGate.Token;
        var parameters = anf.NamedParameters().Where(p => !(redundantBias && p.Name == "conv.bias")).Select(p => (Tensor)p.Parameter).ToList();
        GradCheck.CheckParameters(() => anf.Forward(t), parameters);
    }

    private static VitConfig Tiny(AdaptiveNoiseFilterConfig? anf) => new()
    {
        ImgSize = 12, PatchSize = 4, InChans = 3, NumClasses = 4, EmbedDim = 8, Depth = 4, NumHeads = 2, Anf = anf,
    };

    [Fact]
    public void FiltersSitBetweenBlocksUnderTheirBlocksIndex()
    {
        using var plain = new VisionTransformer(Tiny(null));
        using var model = new VisionTransformer(Tiny(new AdaptiveNoiseFilterConfig()));
        Assert.Equal([0, 1, 2], model.Anf!.AfterBlocks);
        var extra = model.NamedParameters().Select(p => p.Name).Except(plain.NamedParameters().Select(p => p.Name)).ToList();
        Assert.Equal(Enumerable.Range(0, 3).SelectMany(i => new[] { "conv.weight", "conv.bias", "gate.weight", "gate.bias", "norm.weight", "norm.bias" }
            .Select(k => $"anf.{i}.{k}")), extra);
        using var custom = new VisionTransformer(Tiny(new AdaptiveNoiseFilterConfig { AfterBlocks = [3, 1] }));
        Assert.Equal([1, 3], custom.Anf!.AfterBlocks);

        // The model's forward runs block 0, its filter, block 1, ... (timm init leaves the filters as LayerNorms).
        using var s = Scope.Enter();
        model.Eval();
        var x = Torch.Torch.Randn([2, 3, 12, 12]);
        var tokens = model.EmbedTokens(x);
        for (var i = 0; i < 4; i++)
        {
            tokens = model.Blocks[i].Forward(tokens);
            if (i < 3) tokens = model.Anf.After(i)!.Forward(tokens);
        }
        Assert.True(model.ForwardFeatures(x).Equal(model.ApplyNorm(tokens)));
        Assert.Throws<ArgumentException>(() => Tiny(new AdaptiveNoiseFilterConfig { AfterBlocks = [4] }).Validate());
        Assert.Throws<ArgumentException>(() => Tiny(new AdaptiveNoiseFilterConfig { KernelSize = 4 }).Validate());
    }

    /// <summary>The cost figures of <see cref="AdaptiveNoiseFilterConfig"/>'s summary, on ViT-B/16.</summary>
    [Fact]
    public void VitBaseCostMatchesTheDocumentedFigures()
    {
        var vitB = VitConfig.BasePatch16;
        var plain = Meta.Count(d => new VisionTransformer(vitB, d));
        var withAnf = Meta.Count(d => new VisionTransformer(vitB with { Anf = new AdaptiveNoiseFilterConfig() }, d));
        Assert.Equal(11 * 595_200L, withAnf - plain);
        Assert.Equal(0.0756, (withAnf - plain) / (double)plain, 4);
        var tokenGate = Meta.Count(d => new VisionTransformer(vitB with { Anf = new AdaptiveNoiseFilterConfig { Gate = AnfGate.Token } }, d));
        Assert.Equal(11 * (768 * 3 + 768 + 769 + 1536L), tokenGate - plain);

        var flops = vitB.ForwardMatmulFlops();
        var anfFlops = (vitB with { Anf = new AdaptiveNoiseFilterConfig() }).ForwardMatmulFlops() - flops;
        Assert.Equal(11 * (2.0 * 197 * 768 * 768 + 2.0 * 196 * 768 * 3), anfFlops);
        Assert.Equal(0.073, anfFlops / flops, 3);
        Assert.True((vitB with { Anf = new AdaptiveNoiseFilterConfig { Gate = AnfGate.Token } }).ForwardMatmulFlops() / flops - 1 < 0.001);
    }

    [Fact]
    public void ConfigsCompareByValue()
    {
        Assert.Equal(new AdaptiveNoiseFilterConfig { AfterBlocks = [1, 2] }, new AdaptiveNoiseFilterConfig { AfterBlocks = [1, 2] });
        Assert.Equal(new AdaptiveNoiseFilterConfig { AfterBlocks = [1, 2] }.GetHashCode(), new AdaptiveNoiseFilterConfig { AfterBlocks = [1, 2] }.GetHashCode());
        Assert.NotEqual(new AdaptiveNoiseFilterConfig { AfterBlocks = [1] }, new AdaptiveNoiseFilterConfig());
    }
}
