using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Vision.Tests;

/// <summary>Structured Token Augmentation (arXiv 2509.19687): eval no-op, mask, noise statistics, ViT hook.</summary>
public class StructuredTokenAugmentationTests
{
    private const int P = 4;

    /// <summary>
    /// [B, 1, 16, 16] images of 4×4 patches of 4×4 pixels: patches in even grid columns (so even row-major token
    /// indices) are constant, patches in odd columns are N(0, 1) noise.
    /// </summary>
    private static Tensor HalfFlatImages(long batch, Generator gen)
    {
        using var s = Scope.Enter();
        var noise = Torch.Torch.Randn([batch, 1, 16, 16], gen);
        var oddColumns = Torch.Torch.Arange(0, 4, 1).Remainder(2).Reshape(1, 1, 1, 4).Expand(1, 1, 4, 4);
        var pixels = F.Interpolate(oddColumns.Contiguous(), size: [16, 16], mode: InterpolationMode.Nearest);
        return s.MoveOut(noise.Mul(pixels).Add(0.3));
    }

    private static StructuredTokenAugmentation Make(StructuredTokenAugmentationConfig config, Conv2d? proj = null) =>
        new(config, P, proj);

    [Fact]
    public void PatchVarianceIsThePopulationVarianceOfEachPatchsPixels()
    {
        using var s = Scope.Enter();
        using var gen = new Generator(1);
        var images = Torch.Torch.Randn([2, 3, 8, 12], gen);
        var v = StructuredTokenAugmentation.PatchPixelVariance(images, P);
        Assert.Equal([2L, 6], v.Shape);
        // Patch (row 1, column 2) of image 1 is token 1·3 + 2 = 5, all 3 channels.
        var patch = images.Select(0, 1).Narrow(1, 4, 4).Narrow(2, 8, 4).Flatten().To(ScalarType.Float64).ToArray<double>();
        var mean = patch.Average();
        var expected = patch.Select(x => (x - mean) * (x - mean)).Average();
        Assert.Equal(expected, v.Select(0, 1).Select(0, 5).ToDouble(), 5);
    }

    [Fact]
    public void EvalIsANoOpAndTrainingTouchesOnlyLowVariancePatches()
    {
        using var sta = Make(new StructuredTokenAugmentationConfig { Tau = 0.01, Alpha = 2.0, Sigma = 0.25 });
        using var s = Scope.Enter();
        using var gen = new Generator(7);
        sta.Generator = gen;
        var images = HalfFlatImages(64, gen);
        var tokens = Torch.Torch.Randn([64, 16, 32], gen);

        sta.Eval();
        Assert.False(sta.Active);
        Assert.Same(tokens, sta.Apply(images, tokens));

        sta.Train();
        var mask = sta.Mask(images, tokens);
        Assert.Equal([64L, 16], mask.Shape);
        var even = Torch.Torch.Arange(0, 16, 2, ScalarType.Int64).Long();
        var odd = Torch.Torch.Arange(1, 16, 2, ScalarType.Int64).Long();
        Assert.True(mask.IndexSelect(1, even).Eq(1.0).All().ToInt64() == 1, "flat patches not masked");
        Assert.True(mask.IndexSelect(1, odd).Eq(0.0).All().ToInt64() == 1, "noisy patches masked");

        var delta = sta.Apply(images, tokens).Sub(tokens);
        Assert.True(delta.IndexSelect(1, odd).Eq(0.0).All().ToInt64() == 1, "high-variance patches changed");
        // Low-variance patches: α·ε with ε ~ N(0, σ²): mean 0, std α·σ = 0.5 (64·8·32 = 16,384 samples; 3σ bounds).
        var low = delta.IndexSelect(1, even).To(ScalarType.Float64);
        var n = low.Numel;
        Assert.InRange(low.Mean().ToDouble(), -3 * 0.5 / Math.Sqrt(n), 3 * 0.5 / Math.Sqrt(n));
        var std = low.Square().Mean().Sqrt().ToDouble();
        Assert.InRange(std, 0.5 * (1 - 3 / Math.Sqrt(2.0 * n)), 0.5 * (1 + 3 / Math.Sqrt(2.0 * n)));
        Assert.True(low.Ne(0.0).All().ToInt64() == 1);
    }

    [Fact]
    public void ApplyInEvalKeepsAugmentingAndZeroNoiseIsInactive()
    {
        using var s = Scope.Enter();
        using var gen = new Generator(9);
        var images = HalfFlatImages(2, gen);
        var tokens = Torch.Torch.Randn([2, 16, 8], gen);
        using var always = Make(new StructuredTokenAugmentationConfig { ApplyInEval = true });
        always.Eval();
        Assert.False(always.Apply(images, tokens).Equal(tokens));
        using var silent = Make(new StructuredTokenAugmentationConfig { Alpha = 0 });
        Assert.Same(tokens, silent.Apply(images, tokens));
    }

    [Fact]
    public void TokenChannelDomainThresholdsTheTokensOwnVariance()
    {
        using var sta = Make(new StructuredTokenAugmentationConfig { VarianceDomain = StaVarianceDomain.TokenChannels, Tau = 0.5 });
        using var s = Scope.Enter();
        using var gen = new Generator(3);
        var tokens = Torch.Torch.Randn([2, 16, 64], gen).Mul(Torch.Torch.Arange(16).Remainder(2).To(ScalarType.Float32).Reshape(1, 16, 1).Mul(2.0).Add(0.1));
        var mask = sta.Mask(Torch.Torch.Zeros([2, 1, 16, 16]), tokens);
        var expected = tokens.Var([-1], unbiased: false).Lt(0.5).To(ScalarType.Float32);
        Assert.True(mask.Equal(expected));
        Assert.Equal(16.0, mask.Sum().ToDouble()); // the 8 low-variance tokens of each image
    }

    [Fact]
    public void PixelNoiseIsTheEmbeddingOfMaskedPixelNoise()
    {
        using var proj = new Conv2d(1, 8, P, stride: P);
        using var sta = Make(new StructuredTokenAugmentationConfig { NoiseSpace = StaNoiseSpace.Pixel, Alpha = 1.5, Sigma = 0.2 }, proj);
        using var s = Scope.Enter();
        using var g0 = new Generator(5);
        var images = HalfFlatImages(3, g0);
        var tokens = Torch.Torch.Randn([3, 16, 8], g0);
        using var gen = new Generator(11);
        sta.Generator = gen;
        var delta = sta.Apply(images, tokens).Sub(tokens);

        using var replay = new Generator(11);
        var eps = Torch.Torch.Randn(images.Shape, replay).Mul(0.3);
        var flat = StructuredTokenAugmentation.PatchPixelVariance(images, P).Lt(0.01).To(ScalarType.Float32).Reshape(3, 1, 4, 1, 4, 1)
            .Expand(3, 1, 4, P, 4, P).Reshape(3, 1, 16, 16);
        var expected = F.Conv2d(eps.Mul(flat), proj.Weight, null, [P, P]).Flatten(2).Transpose(1, 2);
        Assert.True(delta.Sub(expected).Abs().Max().ToDouble() < 1e-6);
        Assert.Throws<ArgumentException>(() => Make(new StructuredTokenAugmentationConfig { NoiseSpace = StaNoiseSpace.Pixel }));
    }

    [Fact]
    public void VitHookAddsNoKeysAndIsSilentInEval()
    {
        var config = new VitConfig { ImgSize = 16, PatchSize = P, InChans = 1, NumClasses = 3, EmbedDim = 16, Depth = 1, NumHeads = 2 };
        using var plain = new VisionTransformer(config);
        using var model = new VisionTransformer(config with { Sta = new StructuredTokenAugmentationConfig() });
        Assert.Equal(plain.NamedParameters().Select(p => p.Name), model.NamedParameters().Select(p => p.Name));
        Assert.NotNull(model.Sta);
        using var s = Scope.Enter();
        plain.LoadStateDict(model.StateDict());
        using var gen = new Generator(2);
        var images = HalfFlatImages(2, gen);
        model.Eval();
        plain.Eval();
        Assert.True(model.Forward(images).Equal(plain.Forward(images)));
        model.Train();
        plain.Train();
        Assert.False(model.EmbedTokens(images).Equal(plain.EmbedTokens(images)));
        Assert.Throws<ArgumentException>(() => (config with { Sta = new StructuredTokenAugmentationConfig { Sigma = -1 } }).Validate());
    }
}
