using Reproduce.Vision.Data;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Vision.Tests;

/// <summary>
/// Acceptance: a synthetic score map whose argmax encodes position (cell (r, c) → class r·W + c) must,
/// after crop + flip + resize + alignment to the token grid, put each class where the geometry says.
/// </summary>
public sealed class TokenLabelAlignmentTests
{
    private const int MapH = 6, MapW = 6, Cell = 5; // a 30×30 image, 5 px per map cell
    private const int Classes = MapH * MapW + 4;
    private const int Grid = 14, Out = 28; // 14×14 tokens of a 28×28 crop

    /// <summary>Top-3 map: top-1 is the cell's own class with score 8; two distractor classes score 1 and 0.5.</summary>
    internal static TokenLabelMap PositionMap(int h = MapH, int w = MapW, int classes = Classes)
    {
        var values = new float[3 * h * w];
        var indices = new long[3 * h * w];
        for (var r = 0; r < h; r++)
            for (var c = 0; c < w; c++)
            {
                var cell = r * w + c;
                values[cell] = 8f; indices[cell] = cell;
                values[h * w + cell] = 1f; indices[h * w + cell] = classes - 1 - (cell % 3);
                values[2 * h * w + cell] = 0.5f; indices[2 * h * w + cell] = (cell + 1) % (h * w);
            }
        return new TokenLabelMap(Tensor.From<float>(values, [3, h, w]), Tensor.From<long>(indices, [3, h, w]));
    }

    private static TransformSample Sample() =>
        new(Torch.Torch.Zeros([3, MapH * Cell, MapW * Cell], ScalarType.UInt8)) { TokenLabel = PositionMap(), Mask = CellMask() };

    /// <summary>The oracle: a [H,W] mask holding each pixel's map-cell class.</summary>
    private static Tensor CellMask()
    {
        var m = new long[MapH * Cell * MapW * Cell];
        for (var y = 0; y < MapH * Cell; y++)
            for (var x = 0; x < MapW * Cell; x++)
                m[y * MapW * Cell + x] = y / Cell * MapW + x / Cell;
        return Tensor.From<long>(m, [MapH * Cell, MapW * Cell]);
    }

    public static TheoryData<int, int, int, int, bool, bool> Boxes() => new()
    {
        // top, left, height, width (pixels of the 30×30 image), flip after crop (timm order), flip before crop (TL order)
        { 0, 0, 30, 30, false, false },
        { 0, 0, 30, 30, true, false },
        { 3, 7, 17, 21, false, false },
        { 3, 7, 17, 21, true, false },
        { 3, 7, 17, 21, false, true },
        { 12, 0, 18, 11, true, true },   // touches the left and bottom borders
        { 0, 19, 9, 11, false, false },  // top-right corner
        { 8, 4, 5, 24, true, false },    // a thin strip
    };

    [Theory]
    [MemberData(nameof(Boxes))]
    public void EachClassLandsWhereGeometrySays(int top, int left, int height, int width, bool flipAfter, bool flipBefore)
    {
        using var scope = Scope.Enter();
        var s = Sample();
        if (flipBefore) s = SampleGeometry.HFlip(s);
        s = SampleGeometry.ResizedCrop(s, new CropBox(top, left, height, width, s.Height, s.Width), Out, Out, InterpolationMode.Bilinear);
        if (flipAfter) s = SampleGeometry.HFlip(s);
        var target = TokenLabelAligner.Align(s.TokenLabel!, Classes, Grid, Grid);
        Assert.Equal(new long[] { 1 + Grid * Grid, Classes }, target.Shape);
        var argmax = target.Argmax(1).ToArray<long>();
        var mask = s.Mask!.ToArray<long>();
        var checkedTokens = 0;
        for (var i = 0; i < Grid; i++)
        {
            for (var j = 0; j < Grid; j++)
            {
                // Token centre in the output, mapped back through flip-after, crop, flip-before to the source image.
                var u = (j + 0.5) / Grid;
                var v = (i + 0.5) / Grid;
                if (flipAfter) u = 1 - u;
                var x = left + u * width;
                var y = top + v * height;
                if (flipBefore) x = MapW * Cell - x;
                var cx = x / Cell;
                var cy = y / Cell;
                if (NearEdge(cx) || NearEdge(cy)) continue; // bilinear ties at cell borders
                var expected = (int)cy * MapW + (int)cx;
                Assert.True(expected == argmax[1 + i * Grid + j],
                    $"token ({i},{j}): class {argmax[1 + i * Grid + j]}, geometry says {expected} (box {top},{left},{height},{width}, flips {flipBefore}/{flipAfter})");
                // The nearest-resized mask at the token's centre pixel agrees (the image-side oracle).
                var py = (int)((i + 0.5) * Out / Grid);
                var px = (int)((j + 0.5) * Out / Grid);
                if (mask[py * Out + px] == expected) checkedTokens++;
            }
        }
        Assert.True(checkedTokens >= Grid * Grid / 2, $"only {checkedTokens} tokens were checked against the mask oracle");
    }

    private static bool NearEdge(double cellCoordinate) => Math.Abs(cellCoordinate - Math.Round(cellCoordinate)) < 0.05;

    [Fact]
    public void RandomCropsFromRandomResizedCropAlignToo()
    {
        using var scope = Scope.Enter();
        var rrc = new RandomResizedCrop(Out) { Scale = (0.2, 1.0) };
        for (var seed = 0; seed < 6; seed++)
        {
            var rng = new Random(seed);
            var s = rrc.Apply(Sample(), rng);
            var box = s.Box!.Value;
            var target = TokenLabelAligner.Align(s.TokenLabel!, Classes, 7, 7);
            var argmax = target.Argmax(1).ToArray<long>();
            for (var i = 0; i < 7; i++)
                for (var j = 0; j < 7; j++)
                {
                    var cx = (box.Left + (j + 0.5) / 7 * box.Width) / Cell;
                    var cy = (box.Top + (i + 0.5) / 7 * box.Height) / Cell;
                    if (NearEdge(cx) || NearEdge(cy)) continue;
                    // A 7-token row of a crop of ≤ 30 px spans ≤ 6 cells, so each bin is one sample at its centre.
                    Assert.True(box.Height / 7.0 / Cell <= 1 && box.Width / 7.0 / Cell <= 1);
                    Assert.Equal((int)cy * MapW + (int)cx, argmax[1 + i * 7 + j]);
                }
        }
    }

    [Fact]
    public void TargetsAreSoftmaxedAndSmoothedAsTokenLabeling()
    {
        using var scope = Scope.Enter();
        var map = PositionMap();
        var raw = TokenLabelAligner.Align(map, Classes, 3, 3);
        var smooth = TokenLabelAligner.Align(map, Classes, 3, 3, smoothing: 0.1);
        // Rows are probability vectors before smoothing; y·on + off afterwards (sum 1 + ε/C, as TL's code).
        var sums = raw.Sum(1).ToArray<float>();
        Assert.All(sums, v => Assert.Equal(1.0, v, 5));
        var off = 0.1 / Classes;
        Assert.True(smooth.AllClose(raw.Mul(1 - 0.1 + off).Add(off), 1e-5, 1e-6));
        // Row 0 (class token) pools the whole view: the centre cells' classes are among its top ones, and
        // a uniform map gives the uniform class back.
        var uniform = new TokenLabelMap(Torch.Torch.Full([1, 4, 4], 5.0), Torch.Torch.Full([1, 4, 4], 3.0, ScalarType.Int64));
        var u = TokenLabelAligner.Align(uniform, 10, 2, 2);
        Assert.All(u.Argmax(1).ToArray<long>(), c => Assert.Equal(3, c));
        var expected = Math.Exp(5) / (Math.Exp(5) + 9);
        Assert.Equal(expected, u.Select(0, 0).Select(0, 3).ToDouble(), 5);
    }

    [Fact]
    public void SpatialRandAugmentOpsMoveMapAndMaskTogether()
    {
        using var scope = Scope.Enter();
        var ra = new RandAugment { RandomInterpolation = false, Interpolation = InterpolationMode.Nearest };
        foreach (var op in new[] { AugmentOp.Rotate, AugmentOp.ShearX, AugmentOp.ShearY, AugmentOp.TranslateXRel, AugmentOp.TranslateYRel })
        {
            for (var seed = 0; seed < 3; seed++)
            {
                var s = ra.ApplyAtMagnitude(Sample(), op, 7 + seed, new Random(seed));
                var warped = s.TokenLabel!;
                Assert.True(warped.IsFullView);
                // Map cell (r, c) and the mask pixel at that cell's centre sampled the same source point.
                var top1 = warped.Indices.Select(0, 0).ToArray<long>();
                var score = warped.Values.Select(0, 0).ToArray<float>();
                var mask = s.Mask!.ToArray<long>();
                var compared = 0;
                for (var r = 0; r < MapH; r++)
                    for (var c = 0; c < MapW; c++)
                    {
                        var m = mask[(r * Cell + Cell / 2) * MapW * Cell + c * Cell + Cell / 2];
                        if (m == TransformSample.IgnoreIndex)
                        {
                            Assert.Equal(0f, score[r * MapW + c]); // outside: score 0, as TokenLabeling's constant mode
                            continue;
                        }
                        Assert.True(m == top1[r * MapW + c], $"{op} seed {seed}: cell ({r},{c}) holds class {top1[r * MapW + c]} but the mask says {m}");
                        compared++;
                    }
                Assert.True(compared > MapH * MapW / 3, $"{op}: only {compared} cells stayed inside");
            }
        }
    }

    [Fact]
    public void ColourOpsLeaveMapsAlone()
    {
        using var scope = Scope.Enter();
        var ra = new RandAugment();
        var s0 = Sample();
        var s = ra.ApplyAtMagnitude(s0, AugmentOp.Equalize, 9, new Random(1));
        s = ra.ApplyAtMagnitude(s, AugmentOp.SolarizeIncreasing, 9, new Random(1));
        Assert.Same(s0.TokenLabel, s.TokenLabel);
        Assert.Same(s0.Mask, s.Mask);
    }

    [Fact]
    public void WarpAfterCropIsRejected()
    {
        using var scope = Scope.Enter();
        var s = SampleGeometry.Crop(Sample(), new CropBox(0, 0, 20, 20, 30, 30));
        var e = Assert.Throws<InvalidOperationException>(() => SampleGeometry.Warp(s, AffineMatrix.ShearX(0.1), InterpolationMode.Nearest, null));
        Assert.Contains("TokenLabeling order", e.Message);
        var timmOrder = new ClassificationTrainTransform(Out); // RandAugment after the crop
        Assert.Contains("TrainOrder.TokenLabeling", Assert.Throws<InvalidOperationException>(() => timmOrder.Apply(Sample(), new Random(1))).Message);
    }

    [Fact]
    public void TokenLabelingOrderPipelineKeepsMapAndImageInStep()
    {
        using var scope = Scope.Enter();
        // Flip, colour jitter and RandomResizedCrop in TokenLabeling's order (the spatial RandAugment ops are
        // checked cell by cell above; at a 6×6 map their nearest-neighbour quantisation is coarser than the mask).
        var t = new ClassificationTrainTransform(Out) { Erasing = null, AutoAugment = null, Order = TrainOrder.TokenLabeling };
        for (var seed = 0; seed < 8; seed++)
        {
            var s = t.Apply(Sample(), DataRandom.Create(9, (ulong)seed));
            Assert.Equal(new long[] { 3, Out, Out }, s.Image.Shape);
            Assert.Equal(ScalarType.Float32, s.Image.DType);
            var target = TokenLabelAligner.Align(s.TokenLabel!, Classes, Grid, Grid);
            var argmax = target.Argmax(1).ToArray<long>();
            var mask = s.Mask!.ToArray<long>();
            // Wherever the mask (the image-side oracle) holds a real class at a token centre, the aligned
            // target agrees for nearly all tokens (the mask pixel sits half a pixel off the token centre).
            int agree = 0, total = 0;
            for (var i = 0; i < Grid; i++)
                for (var j = 0; j < Grid; j++)
                {
                    var m = mask[(2 * i + 1) * Out + 2 * j + 1];
                    if (m == TransformSample.IgnoreIndex) continue;
                    total++;
                    if (argmax[1 + i * Grid + j] == m) agree++;
                }
            Assert.True(total > 0 && agree >= 0.9 * total, $"seed {seed}: only {agree} of {total} tokens agree with the mask");
        }
    }
}
