using Reproduce.Training.Probes;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Probes;

/// <summary>
/// The segmentation probe on a case whose answer is known: a hand-set ViT whose patch tokens are the patch's mean
/// (normalised) colour, and images made of solid colour cells whose class is their colour. A linear probe must then
/// label every pixel right, up to the cells' borders (where the 1/8-resolution logits are interpolated) — which checks
/// label alignment through the resize, the flips, the upsampling, the loss's ignore index and the metric together.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class HandBuiltProbeTests
{
    private const int Patch = 8;
    private static readonly (byte R, byte G, byte B)[] Colours = [(40, 40, 200), (200, 40, 40), (40, 200, 40)]; // class 0, 1, 2

    /// <summary>
    /// A ViT (img 32, patch 8, one block) whose patch token is [mean R, mean G, mean B, 0, …] of its 8×8 patch (after
    /// ImageNet normalisation): patch embedding = per-channel mean, zero position embedding, and a block made the
    /// identity by zeroing its two residual branches' output projections.
    /// </summary>
    private static VisionTransformer ColourMeanVit()
    {
        var vit = new VisionTransformer(new VitConfig { ImgSize = 32, PatchSize = Patch, InChans = 3, NumClasses = 0, EmbedDim = 8, Depth = 1, NumHeads = 1 });
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = Scope.Enter();
        var zeroed = 0;
        foreach (var (name, p) in vit.NamedParameters())
        {
            if (name is "pos_embed" or "patch_embed.proj.bias" || name.EndsWith("attn.proj.weight", StringComparison.Ordinal)
                || name.EndsWith("attn.proj.bias", StringComparison.Ordinal) || name.EndsWith("mlp.fc2.weight", StringComparison.Ordinal)
                || name.EndsWith("mlp.fc2.bias", StringComparison.Ordinal))
            {
                p.Zero_();
                zeroed++;
            }
        }
        Assert.Equal(6, zeroed);
        var w = new float[8 * 3 * Patch * Patch];
        for (var c = 0; c < 3; c++)
            for (var k = 0; k < Patch * Patch; k++) w[(c * 3 + c) * Patch * Patch + k] = 1f / (Patch * Patch);
        vit.NamedParameters().Single(p => p.Name == "patch_embed.proj.weight").Parameter.Copy_(Tensor.From(w, [8, 3, Patch, Patch]));
        return vit;
    }

    /// <summary>
    /// Images of <paramref name="rows"/>×<paramref name="cols"/> solid cells of <paramref name="cellH"/>×<paramref name="cellW"/>
    /// pixels with a random class each (label = class), and one cell per image marked ignore (255) but coloured as class 0.
    /// </summary>
    private sealed class ColourCells(int count, int rows, int cols, int cellH, int cellW, int seed) : IImageDataset<SegmentationSample>
    {
        public string Name => "colour-cells";
        public int Count => count;
        public IReadOnlyList<DataProblem> Problems => [];
        public DataProblem? Check(int index, bool decode = true) => null;

        public SegmentationSample Load(int index)
        {
            var rng = new Random(seed * 1000 + index);
            int h = rows * cellH, w = cols * cellW;
            var img = new byte[3 * h * w];
            var lbl = new byte[h * w];
            var ignored = rng.Next(rows * cols);
            for (var r = 0; r < rows; r++)
                for (var c = 0; c < cols; c++)
                {
                    var cls = rng.Next(Colours.Length);
                    var colour = Colours[r * cols + c == ignored ? 0 : cls];
                    for (var y = r * cellH; y < (r + 1) * cellH; y++)
                        for (var x = c * cellW; x < (c + 1) * cellW; x++)
                        {
                            img[y * w + x] = colour.R;
                            img[h * w + y * w + x] = colour.G;
                            img[2 * h * w + y * w + x] = colour.B;
                            lbl[y * w + x] = r * cols + c == ignored ? (byte)SegmentationSample.IgnoreIndex : (byte)cls;
                        }
                }
            using var scope = Scope.Enter();
            return new SegmentationSample(scope.MoveOut(Tensor.From(img, [3, h, w])), scope.MoveOut(Tensor.From(lbl, [h, w])), $"cells/{index}", $"cells/{index}");
        }
    }

    [Fact]
    public void WholeModeLabelsSeparableCellsRightThroughANonSquareResize()
    {
        using var scope = Scope.Enter();
        using var vit = ColourMeanVit();
        // 32×48 images of 4×4 cells of 8×12 pixels: the resize to 32×32 maps every cell onto exactly one 8×8 patch.
        var train = new ColourCells(24, 4, 4, 8, 12, seed: 1);
        var val = new ColourCells(6, 4, 4, 8, 12, seed: 2);
        var result = SegmentationProbe.Run(vit, train, val, 3, new ProbeOptions { Steps = 60, BatchSize = 4, Lr = 0.05, Seed = 3 });
        using var head = result.Head;
        // Only pixels near a border between two differently coloured cells can be wrong (bilinear logits); 8×12 cells leave
        // most pixels away from borders, so the scores are near 100. A label misaligned by one cell would drop them to ~1/3.
        Assert.True(result.Metrics.AAcc > 95, $"aAcc {result.Metrics.AAcc}");
        Assert.True(result.Metrics.MIoU > 90, $"mIoU {result.Metrics.MIoU}");
        // the ignored cell (16 % of a 6-image split's 6 cells of 96 pixels) is not scored
        Assert.Equal(6 * (32 * 48 - 8 * 12), result.Metrics.AreaLabel.Sum());
    }

    [Fact]
    public void SlideModeLabelsSeparableCellsRightAtTheImagesOwnScale()
    {
        using var scope = Scope.Enter();
        using var vit = ColourMeanVit();
        // 32×48 images of 8×8 cells at their own scale; windows 32 with stride 16 sit on the patch grid ([0, 32), [16, 48)).
        var train = new ColourCells(24, 4, 6, 8, 8, seed: 1);
        var val = new ColourCells(6, 4, 6, 8, 8, seed: 2);
        var result = SegmentationProbe.Run(vit, train, val, 3, new ProbeOptions { Steps = 60, BatchSize = 4, Lr = 0.05, Seed = 3, Slide = true, Stride = 16 });
        using var head = result.Head;
        Assert.True(result.Metrics.AAcc > 95, $"aAcc {result.Metrics.AAcc}");
        Assert.True(result.Metrics.MIoU > 90, $"mIoU {result.Metrics.MIoU}");
        Assert.Equal(6 * (32 * 48 - 8 * 8), result.Metrics.AreaLabel.Sum());
    }

    [Fact]
    public void FcnHeadLabelsSeparableCellsRightInWholeAndSlideMode()
    {
        // The FCN decode head (3×3 convs over the patch grid, conv_cat, dropout 0.1) on the same known answer: its
        // receptive field spans neighbouring cells, so it must learn to read the centre patch; labels misaligned by a
        // cell, or an upsampling that differs between training and evaluation, would drop it to chance (~1/3).
        using var scope = Scope.Enter();
        using var vit = ColourMeanVit();
        var fcn = new FcnOptions();
        var whole = SegmentationProbe.Run(vit, new ColourCells(24, 4, 4, 8, 12, seed: 1), new ColourCells(6, 4, 4, 8, 12, seed: 2), 3,
            new ProbeOptions { Steps = 60, BatchSize = 4, Lr = 0.05, Seed = 3, Fcn = fcn });
        using (var head = whole.Head) Assert.IsType<Vision.Models.Heads.FcnHead>(head);
        Assert.True(whole.Metrics.AAcc > 90, $"whole aAcc {whole.Metrics.AAcc}");
        Assert.True(whole.Metrics.MIoU > 80, $"whole mIoU {whole.Metrics.MIoU}");
        var slide = SegmentationProbe.Run(vit, new ColourCells(24, 4, 6, 8, 8, seed: 1), new ColourCells(6, 4, 6, 8, 8, seed: 2), 3,
            new ProbeOptions { Steps = 60, BatchSize = 4, Lr = 0.05, Seed = 3, Slide = true, Stride = 16, Fcn = fcn });
        using var slideHead = slide.Head;
        Assert.True(slide.Metrics.AAcc > 90, $"slide aAcc {slide.Metrics.AAcc}");
        Assert.True(slide.Metrics.MIoU > 80, $"slide mIoU {slide.Metrics.MIoU}");
        Assert.Equal(6 * (32 * 48 - 8 * 8), slide.Metrics.AreaLabel.Sum());
    }
}
