using Reproduce.Training.Pretraining;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>
/// DINOv2's per-crop photometric pipeline: the probabilities of its draws (torchvision's RandomApply draws from torch's
/// generator, so only the distribution is comparable) and the composition of a given plan, exactly.
/// </summary>
public sealed class DinoPhotometricTests
{
    [Theory]
    [InlineData(true, 0.0, 0.9)]
    [InlineData(false, 1.0, 0.1)]
    public void DrawFrequenciesAreTheReferences(bool asReleased, double blurGlobal1, double blurGlobal2)
    {
        var p = new DinoPhotometric { AsReleased = asReleased };
        var rng = DataRandom.Create(9);
        const int n = 4000;
        foreach (var (kind, blur) in new[] { (SslCropKind.Global1, blurGlobal1), (SslCropKind.Global2, blurGlobal2), (SslCropKind.Local, 0.5) })
        {
            var plans = Enumerable.Range(0, n).Select(_ => p.Plan(kind, rng)).ToList();
            Assert.InRange(plans.Count(x => x.Jitter) / (double)n, 0.77, 0.83);
            Assert.InRange(plans.Count(x => x.Grayscale) / (double)n, 0.17, 0.23);
            Assert.InRange(plans.Count(x => x.BlurSigma is not null) / (double)n, blur - 0.03, blur + 0.03);
            Assert.All(plans.Where(x => x.BlurSigma is not null), x => Assert.InRange(x.BlurSigma!.Value, 0.1, 2.0));
            var solarize = plans.Count(x => x.Solarize) / (double)n;
            if (kind == SslCropKind.Global2) Assert.InRange(solarize, 0.17, 0.23);
            else Assert.Equal(0, solarize);
        }
    }

    [Fact]
    public void APlanIsTheComposedOperations()
    {
        using var scope = Scope.Enter();
        using var inputs = new Reproduce.Testing.Inputs(3);
        var img = inputs.Uniform(0, 255.99, 3, 12, 12).Floor().To(ScalarType.UInt8);
        var plan = new SslPhotometricPlan(Jitter: true, JitterRng: 17, Grayscale: true, BlurSigma: 0.7, Solarize: true);
        var expected = DinoPhotometric.Jitter.Apply(img, new Random(17));
        expected = ColorOps.Grayscale(expected, 3);
        expected = Filters.GaussianBlur(expected, 9, 0.7);
        expected = Normalize.Apply(PixelOps.Solarize(expected, 128));
        Assert.Equal(expected.ToArray<float>(), DinoPhotometric.Apply(img, plan).ToArray<float>());
        // nothing drawn: only the normalisation
        Assert.Equal(Normalize.Apply(img).ToArray<float>(), DinoPhotometric.Apply(img, new SslPhotometricPlan(false, 0, false, null, false)).ToArray<float>());
        var e = Assert.Throws<ArgumentException>(() => DinoPhotometric.Apply(img.To(ScalarType.Float32), plan));
        Assert.Contains("uint8", e.Message);
    }
}
