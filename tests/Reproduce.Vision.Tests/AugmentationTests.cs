using Reproduce.Vision.Data;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Vision.Tests;

/// <summary>Behaviour of the random augmentations: parameter ranges, timm's config strings, determinism.</summary>
public sealed class AugmentationTests
{
    private static Tensor Image(int h = 24, int w = 32) => Torch.Torch.Randint(0, 256, [3, h, w], new Generator(9)).To(ScalarType.UInt8);

    [Fact]
    public void RandomResizedCropBoxesFollowScaleAndRatio()
    {
        var rrc = new RandomResizedCrop(16);
        var rng = new Random(3);
        for (var i = 0; i < 500; i++)
        {
            var box = rrc.SampleBox(120, 200, rng);
            box.Validate("test");
            var area = (double)box.Height * box.Width / (120 * 200);
            var ratio = (double)box.Width / box.Height;
            // Rounding of w and h widens the ranges slightly.
            Assert.InRange(area, 0.07, 1.0);
            Assert.InRange(ratio, 0.70, 1.45);
        }
        // Impossible ratios fall back to a central crop with the ratio clamped (timm).
        var wide = new RandomResizedCrop(16) { Ratio = (3.0, 4.0), Scale = (0.9, 1.0) }.SampleBox(100, 100, new Random(1));
        Assert.Equal(new CropBox(33, 0, 33, 100, 100, 100), wide); // h = round(100 / 3), centred
        var whole = new RandomResizedCrop(16) { Scale = (1.5, 2.0) }.SampleBox(50, 60, new Random(1));
        Assert.Equal(CropBox.Full(50, 60), whole);
    }

    [Fact]
    public void RandomResizedCropIsDeterministicAndReturnsTheBox()
    {
        using var scope = Scope.Enter();
        var rrc = new RandomResizedCrop(10) { RandomInterpolation = true };
        var a = rrc.Apply(new TransformSample(Image()), new Random(5));
        var b = rrc.Apply(new TransformSample(Image()), new Random(5));
        Assert.Equal(a.Box, b.Box);
        Assert.True(a.Image.Equal(b.Image));
        Assert.Equal(new long[] { 3, 10, 10 }, a.Image.Shape);
        var box = a.Box!.Value;
        Assert.True(a.Image.Equal(Geometry.Resize(Geometry.Crop(Image(), box), 10, 10, rrc.SampleInterpolation(SkipBox(5)))));
    }

    /// <summary>An RNG advanced past RandomResizedCrop's box draws (for replaying its interpolation choice).</summary>
    private static Random SkipBox(int seed)
    {
        var rng = new Random(seed);
        new RandomResizedCrop(10).SampleBox(24, 32, rng);
        return rng;
    }

    [Theory]
    [InlineData("rand-m9-mstd0.5-inc1", 9, 2, 0.5, true)]
    [InlineData("rand-n3-m9-mstd0.5-inc1", 9, 3, 0.5, true)]
    [InlineData("rand-m7-n1", 7, 1, 0.0, false)]
    [InlineData("rand-m9-mstd101", 9, 2, double.PositiveInfinity, false)]
    public void RandAugmentConfigStringsParseAsTimm(string config, double m, int n, double mstd, bool inc)
    {
        var ra = RandAugment.Parse(config);
        Assert.Equal(m, ra.Magnitude);
        Assert.Equal(n, ra.NumLayers);
        Assert.Equal(mstd, ra.MagnitudeStd);
        Assert.Equal(inc, ra.Increasing);
        Assert.Equal(15, ra.Ops.Count);
        Assert.Contains(inc ? AugmentOp.SolarizeIncreasing : AugmentOp.Solarize, ra.Ops);
        Assert.Equal([124.0, 116.0, 104.0], ra.Fill);
    }

    [Fact]
    public void RandAugmentRejectsUnknownSections()
    {
        Assert.Contains("unknown section", Assert.Throws<FormatException>(() => RandAugment.Parse("rand-m9-q3")).Message);
        Assert.Contains("weighted", Assert.Throws<FormatException>(() => RandAugment.Parse("rand-m9-w0")).Message);
        Assert.Throws<FormatException>(() => RandAugment.Parse("augmix-m3"));
        // timm would skip the valueless section and clamp m99 to mmax 10; both are refused, naming what is wrong.
        Assert.Contains("section 'zz' has no numeric value", Assert.Throws<FormatException>(() => RandAugment.Parse("rand-m9-zz")).Message);
        Assert.Contains("m99 exceeds mmax 10", Assert.Throws<FormatException>(() => RandAugment.Parse("rand-m99")).Message);
        Assert.Equal(12, RandAugment.Parse("rand-m12-mmax15").Magnitude); // within a raised mmax
    }

    [Fact]
    public void RandAugmentRunsEveryOpAndGatesThemWithProbabilityOneHalf()
    {
        using var scope = Scope.Enter();
        var img = Image(16, 16);
        var mask = Torch.Torch.Randint(0, 5, [16, 16], new Generator(2));
        foreach (var inc in new[] { false, true })
        {
            var ra = new RandAugment { Increasing = inc, OpProbability = 1.0 };
            foreach (var op in ra.Ops)
            {
                var s = ra.ApplyOp(new TransformSample(img) { Mask = mask }, op, new Random(1));
                Assert.Equal(img.Shape, s.Image.Shape);
                Assert.Equal(ScalarType.UInt8, s.Image.DType);
                var spatial = op is AugmentOp.Rotate or AugmentOp.ShearX or AugmentOp.ShearY or AugmentOp.TranslateXRel or AugmentOp.TranslateYRel;
                Assert.Equal(spatial, !ReferenceEquals(mask, s.Mask));
            }
        }
        var gated = new RandAugment();
        var rng = new Random(4);
        var changed = Enumerable.Range(0, 400).Count(_ => !ReferenceEquals(gated.ApplyOp(new TransformSample(img), AugmentOp.Invert, rng).Image, img));
        Assert.InRange(changed, 160, 240);
        Assert.Contains("uint8", Assert.Throws<ArgumentException>(() => gated.Apply(new TransformSample(img.Float()), rng)).Message);
    }

    [Fact]
    public void MagnitudeNoiseIsClippedToTheLevelRange()
    {
        using var scope = Scope.Enter();
        // Posterize keeps ⌊4·m/10⌋ bits: with m ~ N(9, 5²) clipped to [0, 10] the bit counts span 0..4.
        var ra = new RandAugment { Magnitude = 9, MagnitudeStd = 5, OpProbability = 1.0 };
        var img = Torch.Torch.Full([3, 4, 4], 255.0, ScalarType.UInt8);
        var seen = new HashSet<long>();
        var rng = new Random(8);
        for (var i = 0; i < 300; i++) seen.Add(ra.ApplyOp(new TransformSample(img), AugmentOp.Posterize, rng).Image.Max().ToInt64());
        Assert.Subset(new HashSet<long> { 0, 128, 192, 224, 240 }, seen);
        Assert.Contains(240L, seen); // 4 bits at m = 10
    }

    [Fact]
    public void RandomErasingErasesOneBoxOfTheRequestedArea()
    {
        using var scope = Scope.Enter();
        var img = Torch.Torch.Full([3, 40, 50], 7.0);
        var re = new RandomErasing { Probability = 1.0, Mode = ErasingMode.Pixel };
        for (var seed = 0; seed < 30; seed++)
        {
            var e = re.Apply(img, new Random(seed));
            var changed = e.Ne(7.0).Amax([0]).Sum().ToInt64();
            Assert.InRange(changed / (40.0 * 50), 0.015, 0.36);
        }
        var constant = new RandomErasing { Probability = 1.0, Mode = ErasingMode.Const }.Apply(img, new Random(1));
        Assert.True(constant.Eq(0.0).Any().ToInt64() == 1);
        Assert.True(new RandomErasing { Probability = 0.0 }.Apply(img, new Random(1)).Equal(img));
        Assert.True(img.Eq(7.0).All().ToInt64() == 1); // the input is never modified
    }

    [Fact]
    public void ColorJitterIsDeterministicAndIdentityAtZero()
    {
        using var scope = Scope.Enter();
        var img = Image();
        var cj = ColorJitter.Uniform(0.4);
        Assert.True(cj.Apply(img, new Random(2)).Equal(cj.Apply(img, new Random(2))));
        Assert.False(cj.Apply(img, new Random(2)).Equal(img));
        Assert.True(new ColorJitter(0, 0, 0).Apply(img, new Random(2)).Equal(img));
    }

    [Theory]
    [InlineData(224, 0.875, 256)]
    [InlineData(224, 0.9, 248)]
    [InlineData(224, 1.0, 224)]
    [InlineData(384, 1.0, 384)]
    public void EvalResizeFollowsCropPct(int size, double cropPct, int scale)
    {
        Assert.Equal(scale, new EvalTransform(size) { CropPct = cropPct }.ScaleSize);
    }

    [Fact]
    public void EvalTransformCropsMasksWithTheImage()
    {
        using var scope = Scope.Enter();
        var t = new EvalTransform(8) { CropPct = 0.875, Interpolation = InterpolationMode.Bicubic };
        var mask = Torch.Torch.Arange(12 * 16).View(12, 16);
        var s = t.Apply(new TransformSample(TransformFixture.Input()) { Mask = mask });
        Assert.True(s.Image.AllClose(t.Apply(TransformFixture.Input())));
        Assert.Equal(new long[] { 8, 8 }, s.Mask!.Shape);
        Assert.Equal(new CropBox(0, 2, 8, 8, 9, 12), s.Box);
    }

    [Fact]
    public void SamplingHelpersHaveTheRightMoments()
    {
        var rng = DataRandom.Create(1, 2, 3);
        var beta = Enumerable.Range(0, 4000).Select(_ => rng.Beta(0.8, 0.8)).ToArray();
        Assert.InRange(beta.Average(), 0.47, 0.53);
        Assert.All(beta, b => Assert.InRange(b, 0.0, 1.0));
        var gauss = Enumerable.Range(0, 4000).Select(_ => rng.Gaussian(2, 3)).ToArray();
        Assert.InRange(gauss.Average(), 1.8, 2.2);
        Assert.InRange(Math.Sqrt(gauss.Select(g => (g - 2) * (g - 2)).Average()), 2.8, 3.2);
        Assert.Equal(Enumerable.Range(0, 50), rng.Permutation(50).Order());
        // Streams depend only on the seed parts.
        Assert.Equal(DataRandom.Create(4, 5).Next(), DataRandom.Create(4, 5).Next());
        Assert.NotEqual(DataRandom.Create(4, 5).Next(), DataRandom.Create(5, 4).Next());
    }
}
