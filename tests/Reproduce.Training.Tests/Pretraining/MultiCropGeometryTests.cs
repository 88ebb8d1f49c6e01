using Reproduce.Training.Pretraining;
using Reproduce.Vision.Data;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>
/// DINOv2's multi-crop geometry. torchvision draws its boxes from torch's generator in float32, so the stream cannot
/// be matched; these tests check the reference's deterministic parts exactly (counts, order, sizes, the central
/// fallback) and its distribution's invariants over many draws (scale and aspect ranges, boxes inside the image,
/// flips about half the time).
/// </summary>
public sealed class MultiCropGeometryTests
{
    [Fact]
    public void CropsKeepTheReferenceCountsSizesScalesAndAspects()
    {
        var geometry = new MultiCropGeometry();
        var rng = DataRandom.Create(42);
        int flips = 0, total = 0;
        for (var n = 0; n < 400; n++)
        {
            var (h, w) = (240 + n % 7 * 20, 320 - n % 5 * 30);
            var crops = geometry.Sample(h, w, rng);
            Assert.Equal(10, crops.Count);
            Assert.All(crops.Take(2), c => Assert.True(c.Global && c.Size == 224));
            Assert.All(crops.Skip(2), c => Assert.True(!c.Global && c.Size == 96));
            foreach (var c in crops)
            {
                c.Box.Validate("multi-crop");
                var (lo, hi) = c.Global ? geometry.GlobalScale : geometry.LocalScale;
                // w = round(√(A·r)), h = round(√(A/r)): rounding moves the area w·h by at most (w + h)/2 + 3/4 pixels
                var slack = (c.Box.Width + c.Box.Height) / 2.0 + 0.75;
                var area = (double)c.Box.Width * c.Box.Height;
                Assert.InRange(area, lo * h * w - slack, hi * h * w + slack);
                // and the drawn aspect r lies in [(w − ½)/(h + ½), (w + ½)/(h − ½)], which must meet [3/4, 4/3]
                Assert.True((c.Box.Width - 0.5) / (c.Box.Height + 0.5) <= 4.0 / 3 && (c.Box.Width + 0.5) / (c.Box.Height - 0.5) >= 0.75,
                    $"{c.Box} has an aspect no draw in [3/4, 4/3] rounds to");
                flips += c.Flip ? 1 : 0;
                total++;
            }
        }
        Assert.InRange(flips / (double)total, 0.45, 0.55);
    }

    [Fact]
    public void TheSameSeedGivesTheSameCropsAndTinyImagesFallBackToTheCentralCrop()
    {
        var geometry = new MultiCropGeometry { LocalCrops = 3 };
        Assert.Equal(geometry.Sample(100, 90, DataRandom.Create(3)), geometry.Sample(100, 90, DataRandom.Create(3)));
        Assert.Equal(5, geometry.Sample(100, 90, DataRandom.Create(3)).Count);
        // on a 1x40 image a global crop (area >= 0.32·40, aspect <= 4/3) is at least 3 pixels high, so every attempt
        // fails and the reference falls back to the central crop with the aspect clamped: h = 1, w = round(4/3) = 1
        var crops = new MultiCropGeometry { LocalCrops = 0 }.Sample(1, 40, DataRandom.Create(1));
        Assert.Equal(2, crops.Count);
        Assert.All(crops, c => Assert.Equal((0, 19, 1, 1), (c.Box.Top, c.Box.Left, c.Box.Height, c.Box.Width)));
    }

    [Fact]
    public void EmptyImagesAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => new MultiCropGeometry().Sample(0, 5, new Random(1)));
        Assert.Contains("0x5", e.Message);
    }
}
