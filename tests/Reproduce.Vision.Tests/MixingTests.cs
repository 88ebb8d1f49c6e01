using Reproduce.Vision.Models.Layers;
using Reproduce.Vision.Data.Mixing;
using Reproduce.Vision.Tokens;

namespace Reproduce.Vision.Tests;

/// <summary>Acceptance: CutMix and MixToken λ equal the area fraction actually pasted, also for clipped boxes.</summary>
public sealed class MixingTests
{
    private const int B = 4;

    /// <summary>B images [B,1,h,w] where image i is filled with the value i + 1.</summary>
    private static Tensor ConstantImages(int h, int w) =>
        Torch.Torch.Arange(1, B + 1, 1).View(B, 1, 1, 1).Expand(B, 1, h, w).Contiguous();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CutMixLambdaIsTheAreaActuallyPasted(bool minMax)
    {
        using var scope = Scope.Enter();
        const int h = 13, w = 17;
        var mix = new Mixup(B) { MixupAlpha = 0, CutMixAlpha = 1.0, LabelSmoothing = 0, CutMixMinMax = minMax ? (0.2, 0.8) : null };
        var labels = Tensor.From(new long[] { 0, 1, 2, 3 });
        var clipped = 0;
        for (var seed = 0; seed < 60; seed++)
        {
            using var step = Scope.Enter();
            var r = mix.Apply(ConstantImages(h, w), labels, new Random(seed));
            Assert.True(r.CutMix);
            var (y0, y1, x0, x1) = r.Box!.Value;
            if (y0 == 0 || x0 == 0 || y1 == h || x1 == w) clipped++;
            var px = r.Images.ToArray<float>();
            var t = r.Targets.ToArray<float>();
            for (var i = 0; i < B; i++)
            {
                var partner = B - i; // value of image B−1−i
                var pasted = px.Skip(i * h * w).Take(h * w).Count(v => v == partner);
                var own = px.Skip(i * h * w).Take(h * w).Count(v => v == i + 1);
                Assert.Equal(h * w, pasted + own);
                Assert.Equal(1.0 - r.Lambda, (double)pasted / (h * w), 10);
                // The target weighs each label by the area it occupies.
                Assert.Equal(r.Lambda, t[i * B + i], 5);
                Assert.Equal(1 - r.Lambda, t[i * B + (B - 1 - i)], 5);
            }
        }
        if (!minMax) Assert.True(clipped > 10, $"only {clipped} of 60 boxes touched the border");
    }

    [Fact]
    public void MixupBlendsImagesAndSmoothedTargetsWithOneLambda()
    {
        using var scope = Scope.Enter();
        var mix = new Mixup(10) { MixupAlpha = 0.8, CutMixAlpha = 0, LabelSmoothing = 0.1 };
        var x = Torch.Torch.Rand([B, 3, 5, 5], new Generator(3));
        var labels = Tensor.From(new long[] { 7, 1, 4, 4 });
        var r = mix.Apply(x, labels, new Random(11));
        Assert.False(r.CutMix);
        Assert.True(r.Images.AllClose(x.Mul(r.Lambda).Add(x.Flip(0).Mul(1 - r.Lambda)), 1e-5, 1e-6));
        var y = SoftTargets.OneHot(labels, 10, 0.1);
        Assert.True(r.Targets.AllClose(y.Mul(r.Lambda).Add(y.Flip(0).Mul(1 - r.Lambda)), 1e-6, 1e-7));
        Assert.All(r.Targets.Sum(1).ToArray<float>(), s => Assert.Equal(1.0, s, 5));
        Assert.Equal(1 - 0.1 + 0.01, y.Select(0, 0).Select(0, 7).ToDouble(), 6);
        Assert.Equal(0.01, y.Select(0, 0).Select(0, 0).ToDouble(), 6);
    }

    [Fact]
    public void MixingIsSkippedWithProbabilityOneMinusProbAndSwitchesBetweenModes()
    {
        var mix = new Mixup(10) { MixupAlpha = 0.8, CutMixAlpha = 1.0, Prob = 0.5, SwitchProb = 0.5 };
        var rng = new Random(5);
        var draws = Enumerable.Range(0, 2000).Select(_ => mix.SampleParams(rng)).ToArray();
        var unmixed = draws.Count(d => d.Lambda == 1.0);
        var cut = draws.Count(d => d.CutMix);
        Assert.InRange(unmixed, 900, 1100);
        Assert.InRange(cut, 400, 600);
        Assert.All(draws, d => Assert.InRange(d.Lambda, 0.0, 1.0));
        Assert.Throws<ArgumentException>(() => mix.Apply(Torch.Torch.Zeros([3, 1, 4, 4]), Tensor.From(new long[] { 0, 1, 2 }), rng));
    }

    [Fact]
    public void MixTokenLambdaIsTheTokenAreaPastedAndBoxesClipAtTheGrid()
    {
        using var scope = Scope.Enter();
        const int gh = 14, gw = 14, n = gh * gw;
        var clipped = 0;
        for (var seed = 0; seed < 200; seed++)
        {
            var box = new MixToken(generator: new Generator((ulong)seed)).Sample(gh, gw);
            box.Validate();
            if (box.Top == 0 || box.Left == 0 || box.Bottom == gh || box.Right == gw) clipped++;
            // The model's paste on the token grid: tokens inside the box come from sample B−1−i.
            var mask = MixTokenTargets.Mask(box).ToArray<bool>();
            var pasted = mask.Count(m => m);
            Assert.Equal(box.Area, pasted);
            Assert.Equal(1.0 - (double)pasted / n, box.ClassTargetWeight, 12);
            for (var r = 0; r < gh; r++)
                for (var c = 0; c < gw; c++)
                    Assert.Equal(box.Contains(r, c), mask[r * gw + c]);
        }
        Assert.True(clipped > 50, $"only {clipped} of 200 token boxes were clipped");
    }

    [Fact]
    public void MixTokenClassTargetMixesByAreaAndTokenTargetsFollowTheirImage()
    {
        using var scope = Scope.Enter();
        const int gh = 4, gw = 5, n = gh * gw, c = 7;
        // Distinct soft targets per sample and token.
        var targets = Torch.Torch.Rand([B, 1 + n, c], new Generator(1));
        targets = targets.Div(targets.Sum(2, keepDim: true));
        var box = new MixTokenBox(1, 3, 4, 5, gh, gw); // rows [1,4) x cols [3,5): touches the right border
        var mixed = MixTokenTargets.Mix(targets, box);
        Assert.Equal(targets.Shape, mixed.Shape);
        var lam = 1.0 - 6.0 / n;
        Assert.Equal(lam, box.ClassTargetWeight, 12);
        var t = targets.ToArray<float>();
        var m = mixed.ToArray<float>();
        float At(float[] a, int b, int row, int k) => a[(b * (1 + n) + row) * c + k];
        for (var i = 0; i < B; i++)
        {
            var j = B - 1 - i;
            for (var k = 0; k < c; k++)
                Assert.Equal(lam * At(t, i, 0, k) + (1 - lam) * At(t, j, 0, k), At(m, i, 0, k), 5);
            for (var row = 0; row < gh; row++)
                for (var col = 0; col < gw; col++)
                {
                    var src = box.Contains(row, col) ? j : i; // the image this token came from
                    for (var k = 0; k < c; k++)
                        Assert.Equal(At(t, src, 1 + row * gw + col, k), At(m, i, 1 + row * gw + col, k));
                }
        }
        Assert.Throws<ArgumentException>(() => MixTokenTargets.Mix(targets, new MixTokenBox(0, 0, 2, 2, 5, 5)));
        Assert.Throws<ArgumentException>(() => MixTokenTargets.Mix(targets, new MixTokenBox(2, 0, 1, 1, gh, gw)));
    }

    [Fact]
    public void EmptyTokenBoxLeavesTargetsUnmixed()
    {
        using var scope = Scope.Enter();
        var targets = Torch.Torch.Rand([B, 1 + 9, 3], new Generator(2));
        var box = new MixTokenBox(2, 1, 2, 3, 3, 3);
        Assert.Equal(0, box.Area);
        Assert.Equal(1.0, box.ClassTargetWeight);
        Assert.True(MixTokenTargets.Mix(targets, box).Equal(targets));
    }
}
