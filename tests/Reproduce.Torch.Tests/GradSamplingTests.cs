namespace Reproduce.Torch.Tests;

/// <summary>Gradient checks of resampling, pooling, padding and im2col (float64).</summary>
public class GradSamplingTests
{
    [Theory]
    [InlineData(InterpolationMode.Bilinear, false)]
    [InlineData(InterpolationMode.Bilinear, true)]
    [InlineData(InterpolationMode.Bicubic, false)]
    [InlineData(InterpolationMode.Bicubic, true)]
    public void InterpolateUpAndDown(InterpolationMode mode, bool alignCorners)
    {
        using var s = Scope.Enter();
        using var r = new Inputs(81);
        GradCheck.Check(x => F.Interpolate(x[0], size: [5, 7], mode: mode, alignCorners: alignCorners), r.Randn(1, 2, 3, 4));
        GradCheck.Check(x => F.Interpolate(x[0], size: [3, 2], mode: mode, alignCorners: alignCorners), r.Randn(1, 1, 5, 6));
        GradCheck.Check(x => F.Interpolate(x[0], scale: [1.5, 2.0], mode: mode, alignCorners: alignCorners), r.Randn(2, 1, 3, 3));
    }

    [Theory]
    [InlineData(InterpolationMode.Bilinear)]
    [InlineData(InterpolationMode.Bicubic)]
    public void InterpolateAntialias(InterpolationMode mode)
    {
        using var s = Scope.Enter();
        using var r = new Inputs(82);
        GradCheck.Check(x => F.Interpolate(x[0], size: [3, 2], mode: mode, antialias: true), r.Randn(1, 2, 7, 5));
        GradCheck.Check(x => F.Interpolate(x[0], size: [5, 6], mode: mode, antialias: true), r.Randn(1, 1, 3, 4));
    }

    [Fact]
    public void InterpolateNearest()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(83);
        GradCheck.Check(x => F.Interpolate(x[0], size: [5, 7], mode: InterpolationMode.Nearest), r.Randn(1, 2, 3, 4));
        GradCheck.Check(x => F.Interpolate(x[0], size: [2, 3], mode: InterpolationMode.Nearest), r.Randn(1, 1, 5, 7));
        GradCheck.Check(x => F.Interpolate(x[0], scale: [2.0, 3.0], mode: InterpolationMode.Nearest), r.Randn(1, 1, 2, 2));
    }

    [Theory]
    [InlineData(0L, false)]
    [InlineData(0L, true)]
    [InlineData(1L, false)]
    [InlineData(2L, false)]
    public void GridSampleBilinearInputAndGrid(long padding, bool alignCorners)
    {
        using var s = Scope.Enter();
        using var r = new Inputs(84);
        // Sample points are random, so none sits on an integer pixel position (a kink of bilinear
        // weights) except with probability zero; some fall outside [−1, 1] to exercise padding.
        GradCheck.Check(x => F.GridSample(x[0], x[1], 0, padding, alignCorners), r.Randn(1, 2, 4, 5), r.Uniform(-1.2, 1.2, 1, 3, 2, 2));
    }

    [Fact]
    public void GridSampleBicubicInputAndGrid()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(85);
        GradCheck.Check(x => F.GridSample(x[0], x[1], 2, 0, false), r.Randn(1, 1, 5, 5), r.Uniform(-0.9, 0.9, 1, 2, 3, 2));
    }

    [Fact]
    public void GridSampleNearestInput()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(86);
        // Nearest: linear in the input; the grid's gradient is zero (piecewise constant) and the
        // analytic one must agree: checked with allowZero.
        var grid = r.Uniform(-1.0, 1.0, 2, 3, 3, 2);
        GradCheck.Check(x => F.GridSample(x[0], grid, 1, 0, false), r.Randn(2, 2, 4, 4));
        GradCheck.Check(x => F.GridSample(x[0], grid, 1, 1, true), r.Randn(2, 1, 4, 4));
        var image = r.Randn(2, 1, 4, 4);
        Assert.Equal(0.0, GradCheck.Check(x => F.GridSample(image, x[0], 1, 0, false), allowZero: true, grid));
    }

    [Fact]
    public void CropResizeInputAndBoxCoordinates()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(87);
        // The batch-index column is not differentiable (converted to int64): it is a constant, the
        // coordinates (x1, y1, x2, y2) are checked. Boxes lie inside the 6×7 image.
        var batch = Tensor.From(new[] { 1.0, 0.0, 1.0 }, new long[] { 3, 1 });
        var coords = Tensor.From(new[] { 0.7, 1.3, 4.9, 5.1, 2.2, 0.4, 6.1, 3.3, 1.15, 2.05, 3.45, 4.85 }, new long[] { 3, 4 });
        GradCheck.Check(x => F.CropResize(x[0], Tensor.Cat([batch, x[1]], 1), 3, 2), r.Randn(2, 2, 6, 7), coords);
    }

    [Fact]
    public void MaxPool2dDistinctValues()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(88);
        // Distinct values (≥ 0.3 apart): the arg-max of each window is stable under ±ε.
        GradCheck.Check(x => F.MaxPool2d(x[0], [2, 2]), r.Distinct(1, 2, 4, 6));
        GradCheck.Check(x => F.MaxPool2d(x[0], [3, 3], [2, 2], [1, 1]), r.Distinct(2, 1, 5, 5));
    }

    [Fact]
    public void AvgPoolAndAdaptiveAvgPool()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(89);
        GradCheck.Check(x => F.AvgPool2d(x[0], [2, 2]), r.Randn(1, 2, 4, 6));
        GradCheck.Check(x => F.AvgPool2d(x[0], [3, 2], [2, 1], [1, 1]), r.Randn(1, 1, 5, 4));
        GradCheck.Check(x => F.AdaptiveAvgPool2d(x[0], [3, 2]), r.Randn(1, 2, 5, 5));
        GradCheck.Check(x => F.AdaptiveAvgPool2d(x[0], [1, 1]), r.Randn(2, 3, 3, 2));
    }

    [Fact]
    public void PadConstant()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(90);
        GradCheck.Check(x => F.Pad(x[0], [1, 2], 0.5), r.Randn(2, 3));
        GradCheck.Check(x => F.Pad(x[0], [1, 0, 2, 1]), r.Randn(1, 2, 3));
        GradCheck.Check(x => F.Pad(x[0], [-1, 1]), r.Randn(2, 4)); // negative padding crops
    }

    [Fact]
    public void UnfoldIm2col()
    {
        using var s = Scope.Enter();
        using var r = new Inputs(91);
        GradCheck.Check(x => F.Unfold(x[0], [2, 2]), r.Randn(1, 2, 3, 4));
        GradCheck.Check(x => F.Unfold(x[0], [3, 2], dilation: [1, 2], padding: [1, 1], stride: [2, 1]), r.Randn(2, 1, 4, 5));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AffineGridTheta(bool alignCorners)
    {
        using var s = Scope.Enter();
        using var r = new Inputs(92);
        GradCheck.Check(x => F.AffineGrid(x[0], [2, 1, 3, 4], alignCorners), r.Randn(2, 2, 3));
        // through grid_sample as CropResize uses it
        GradCheck.Check(x => F.GridSample(x[1], F.AffineGrid(x[0].Mul(0.8), [1, 2, 3, 3], alignCorners), 0, 1, alignCorners),
            r.Randn(1, 2, 3), r.Randn(1, 2, 4, 5));
    }
}
