using Reproduce.Vision.Data.Loading;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Vision.Tests;

/// <summary>The mmseg-style segmentation/depth pipeline and DeiT-III's 3-Augment.</summary>
public sealed class DenseTransformTests
{
    /// <summary>A 40×60 scene: left third class 0, middle class 1, right class 2, a 255 (ignore) band; depth = column + 1.</summary>
    private static TransformSample Scene()
    {
        var mask = new long[40 * 60];
        var depth = new float[40 * 60];
        for (var y = 0; y < 40; y++)
            for (var x = 0; x < 60; x++)
            {
                mask[y * 60 + x] = y < 4 ? 255 : x / 20;
                depth[y * 60 + x] = x + 1;
            }
        return new TransformSample(Torch.Torch.Randint(0, 256, [3, 40, 60], new Generator(5)).To(ScalarType.UInt8))
        {
            Mask = Tensor.From<long>(mask, [40, 60]),
            Depth = Tensor.From<float>(depth, [40, 60]),
        };
    }

    [Fact]
    public void RescaleKeepsTheAspectRatioAsMmcv()
    {
        Assert.Equal((512, 683), DenseTrainTransform.RescaleSize(480, 640, 2048, 512));
        Assert.Equal((512, 1024), DenseTrainTransform.RescaleSize(256, 512, 2048, 512)); // small images are upscaled
        Assert.Equal((374, 1240), DenseTrainTransform.RescaleSize(375, 1242, 1240, 375));
    }

    [Fact]
    public void SegmentationPipelineCropsPadsAndKeepsLabelsConsistent()
    {
        using var scope = Scope.Enter();
        var t = new DenseTrainTransform { BaseScale = (120, 30), RatioRange = (0.6, 1.6), CropSize = (32, 32) };
        var sawPadding = false;
        for (var seed = 0; seed < 12; seed++)
        {
            var s = t.Apply(Scene(), new Random(seed));
            Assert.Equal(new long[] { 3, 32, 32 }, s.Image.Shape);
            Assert.Equal(ScalarType.Float32, s.Image.DType);
            Assert.Equal(new long[] { 32, 32 }, s.Mask!.Shape);
            Assert.Equal(new long[] { 32, 32 }, s.Depth!.Shape);
            var labels = s.Mask.ToArray<long>().ToHashSet();
            Assert.Subset(new HashSet<long> { 0, 1, 2, 255 }, labels);
            // Mask and depth moved together: a column's depth (x + 1) determines its class (x / 20) where both are valid.
            var m = s.Mask.ToArray<long>();
            var d = s.Depth.ToArray<float>();
            for (var i = 0; i < m.Length; i++)
            {
                if (d[i] == 0) { Assert.Equal(255, m[i]); sawPadding = true; continue; }
                if (m[i] != 255) Assert.Equal(((int)d[i] - 1) / 20, m[i]);
            }
        }
        Assert.True(sawPadding, "no crop was smaller than the crop size, so padding was never exercised");
    }

    [Fact]
    public void CatMaxRatioRejectsSingleClassCrops()
    {
        using var scope = Scope.Enter();
        // 10×10 crops of a 40×60 scene at scale 1: most crops hold one class; with the check, most hold two.
        var strict = new DenseTrainTransform { BaseScale = (60, 40), RatioRange = (1, 1), CropSize = (10, 10), Photometric = null, CatMaxRatio = 0.9 };
        var loose = strict with { CatMaxRatio = 1.0 };
        int Mixed(DenseTrainTransform t) => Enumerable.Range(0, 40).Count(seed =>
        {
            using var s = Scope.Enter();
            var labels = t.Apply(Scene(), new Random(seed)).Mask!.ToArray<long>().Where(v => v != 255).Distinct().Count();
            return labels > 1;
        });
        Assert.True(Mixed(strict) > Mixed(loose) + 10, $"cat_max_ratio made no difference ({Mixed(strict)} vs {Mixed(loose)} mixed crops)");
    }

    [Fact]
    public void PhotometricDistortionChangesOnlyTheImage()
    {
        using var scope = Scope.Enter();
        var img = Scene().Image;
        var p = new PhotoMetricDistortion();
        var changed = 0;
        for (var seed = 0; seed < 10; seed++)
        {
            var o = p.Apply(img, new Random(seed));
            Assert.Equal(img.Shape, o.Shape);
            Assert.Equal(ScalarType.UInt8, o.DType);
            if (!o.Equal(img)) changed++;
        }
        Assert.InRange(changed, 7, 10);
    }

    [Fact]
    public void ThreeAugmentAppliesOneOfThreeAndNormalises()
    {
        using var scope = Scope.Enter();
        foreach (var simple in new[] { false, true })
        {
            var t = new ThreeAugment(16) { SimpleRandomCrop = simple };
            for (var seed = 0; seed < 6; seed++)
            {
                var s = t.Apply(Scene(), new Random(seed));
                Assert.Equal(new long[] { 3, 16, 16 }, s.Image.Shape);
                Assert.Equal(new long[] { 16, 16 }, s.Mask!.Shape);
            }
        }
        // Without jitter, the grayscale branch gives three equal channels.
        var gray = Enumerable.Range(0, 12).Select(seed => new ThreeAugment(16) { ColorJitter = 0, Mean = [0, 0, 0], Std = [1, 1, 1] }.Apply(Scene(), new Random(seed)).Image)
            .Count(img => img.Select(0, 0).Equal(img.Select(0, 1)) && img.Select(0, 1).Equal(img.Select(0, 2)));
        Assert.InRange(gray, 1, 9);
    }

    [Fact]
    public void DenseCollateStacksImagesMasksAndDepth()
    {
        using var scope = Scope.Enter();
        var t = new DenseTrainTransform { BaseScale = (60, 40), RatioRange = (1, 1), CropSize = (16, 16) };
        var samples = Enumerable.Range(0, 3).Select(i => t.Apply(Scene(), new Random(i))).ToArray();
        var info = new BatchInfo(0, 0, [new SampleSlot(0, 0), new SampleSlot(1, 1), new SampleSlot(2, 2)], 3);
        using var batch = Collate.Dense(samples, info);
        Assert.Equal(new long[] { 3, 3, 16, 16 }, batch["image"].Shape);
        Assert.Equal(ScalarType.Int64, batch["mask"].DType);
        Assert.Equal(new long[] { 3, 16, 16 }, batch["depth"].Shape);
        Assert.Contains("has no tensor 'label'", Assert.Throws<KeyNotFoundException>(() => batch["label"]).Message);
    }
}
