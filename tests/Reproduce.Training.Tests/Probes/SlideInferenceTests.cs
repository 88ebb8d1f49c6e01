using Reproduce.Training.Probes;

namespace Reproduce.Training.Tests.Probes;

/// <summary>mmseg's slide_inference (window grid, shifted last window, count-normalised sum) against hand-computed cases.</summary>
public sealed class SlideInferenceTests
{
    [Fact]
    public void WindowsFollowMmsegsGridAndShiftTheLastWindowBackInside()
    {
        // H 5, W 7, crop 4, stride 3: h_grids = max(5 − 4 + 2, 0) // 3 + 1 = 2, w_grids = max(7 − 4 + 2, 0) // 3 + 1 = 2.
        // Row cell 1: y1 = 3, y2 = min(7, 5) = 5, y1 = max(5 − 4, 0) = 1. Column cell 1: x1 = 3, x2 = min(7, 7) = 7.
        var w = SlideInference.Windows(5, 7, 4, 4, 3, 3);
        Assert.Equal([new SlideWindow(0, 4, 0, 4), new SlideWindow(0, 4, 3, 7), new SlideWindow(1, 5, 0, 4), new SlideWindow(1, 5, 3, 7)], w);
        // ADE20K's 512 crop / 341 stride on a 512×683 image: one row, columns [0, 512) and [171, 683).
        Assert.Equal([new SlideWindow(0, 512, 0, 512), new SlideWindow(0, 512, 171, 683)], SlideInference.Windows(512, 683, 512, 512, 341, 341));
        // An image smaller than the crop is one window of its own size (no padding in mmseg).
        Assert.Equal([new SlideWindow(0, 3, 0, 3)], SlideInference.Windows(3, 3, 4, 4, 3, 3));
        // Exact tiling: 8 = 4 + 4 with stride 4 gives two disjoint windows.
        Assert.Equal([new SlideWindow(0, 4, 0, 4), new SlideWindow(0, 4, 4, 8)], SlideInference.Windows(4, 8, 4, 4, 4, 4));
    }

    [Fact]
    public void OverlapsAreAveragedByCoverageCount()
    {
        using var scope = Scope.Enter();
        // The window function writes its window's number k (1..4, in Windows order) into both output channels of every
        // pixel, times 1 and −1; so each output pixel is the mean of the numbers of the windows covering it.
        var image = Torch.Torch.Zeros([1, 3, 5, 7]);
        var k = 0;
        var output = SlideInference.Run(image, 4, 3, crop =>
        {
            k++;
            var ones = Torch.Torch.Ones([1, 1, crop.Size(2), crop.Size(3)]).Mul(k);
            return Tensor.Cat([ones, ones.Neg()], 1);
        });
        Assert.Equal(4, k);
        Assert.Equal(new long[] { 1, 2, 5, 7 }, output.Shape);
        // Windows: 1 = rows 0–3 × cols 0–3, 2 = rows 0–3 × cols 3–6, 3 = rows 1–4 × cols 0–3, 4 = rows 1–4 × cols 3–6.
        double[,] expected =
        {
            { 1, 1, 1, 1.5, 2, 2, 2 },
            { 2, 2, 2, 2.5, 3, 3, 3 },
            { 2, 2, 2, 2.5, 3, 3, 3 },
            { 2, 2, 2, 2.5, 3, 3, 3 },
            { 3, 3, 3, 3.5, 4, 4, 4 },
        };
        var got = output.ToArray<float>();
        for (var y = 0; y < 5; y++)
            for (var x = 0; x < 7; x++)
            {
                Assert.Equal(expected[y, x], got[y * 7 + x], 6);
                Assert.Equal(-expected[y, x], got[35 + y * 7 + x], 6);
            }
    }

    [Fact]
    public void WindowsSeeTheirOwnPixelsAndAPixelwiseModelIsReproducedExactly()
    {
        using var scope = Scope.Enter();
        // A per-pixel model (2·x + 1 on channel 0) gives the same value from every window, so the average must equal
        // the whole-image result; this checks that each window receives the right crop and is pasted back in place.
        var image = Torch.Torch.Arange(0, 2 * 1 * 6 * 9).Reshape(2, 1, 6, 9);
        var output = SlideInference.Run(image, 4, 3, crop => crop.Mul(2).Add(1));
        Assert.True(output.AllClose(image.Mul(2).Add(1), 0, 1e-5));
    }

    [Fact]
    public void PaddedWindowsOfAFixedSizeModelAreCutBack()
    {
        using var scope = Scope.Enter();
        // A 3×3 image under a model that only takes 4×4: padded with zeros at the bottom/right, output cut to 3×3.
        var image = Torch.Torch.Arange(0, 9).Reshape(1, 1, 3, 3).Add(1);
        var seen = new List<long[]>();
        var output = SlideInference.Run(image, 4, 3, crop => ProbeInputs.Window(crop, 4, x =>
        {
            seen.Add(x.Shape);
            Assert.Equal(0, x.Slice(2, 3, 4).Abs().Sum().ToDouble());
            return x.Neg();
        }));
        Assert.Equal(new long[] { 1, 1, 4, 4 }, Assert.Single(seen));
        Assert.True(output.Equal(image.Neg()));
    }

    [Fact]
    public void BadGeometryIsAClearError()
    {
        Assert.Contains("probe.stride", Assert.Throws<ArgumentException>(() => SlideInference.Windows(8, 8, 4, 4, 5, 5)).Message);
        Assert.Contains("probe.crop_size", Assert.Throws<ArgumentException>(() => SlideInference.Windows(8, 8, 0, 4, 1, 1)).Message);
        using var scope = Scope.Enter();
        var e = Assert.Throws<InvalidOperationException>(() => SlideInference.Run(Torch.Torch.Zeros([1, 1, 5, 5]), 4, 2, crop => crop.Slice(3, 0, 1)));
        Assert.Contains("window function", e.Message);
    }
}
