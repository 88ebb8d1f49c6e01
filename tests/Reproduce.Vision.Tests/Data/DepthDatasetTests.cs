using Reproduce.Vision.Data.Datasets;

namespace Reproduce.Vision.Tests.Data;

public sealed class DepthDatasetTests : IDisposable
{
    private readonly FixtureTree _t = new();

    public void Dispose() => _t.Dispose();

    private static int[] Depth(int h, int w, int seed) =>
        Enumerable.Range(0, h * w).Select(i => i % 5 == 0 ? 0 : (i * 7919 + seed * 104729) % 65536).ToArray();

    private void BuildNyu()
    {
        _t.Jpeg("sync/kitchen_0028b/rgb_00045.jpg", 6, 8, 1);
        _t.Png16("sync/kitchen_0028b/sync_depth_00045.png", Depth(6, 8, 1), 6, 8);
        _t.Jpeg("sync/bedroom_0001/rgb_00001.jpg", 6, 8, 2);
        _t.Png16("sync/bedroom_0001/sync_depth_00001.png", Depth(6, 8, 2), 6, 8);
        _t.Jpeg("sync/bedroom_0001/rgb_00002.jpg", 6, 8, 3);                      // depth file missing
        _t.Jpeg("sync/bedroom_0001/rgb_00003.jpg", 6, 8, 4);
        _t.Png16("sync/bedroom_0001/sync_depth_00004.png", Depth(6, 8, 4), 6, 8);
        _t.Jpeg("sync/bedroom_0001/rgb_00005.jpg", 6, 8, 5);
        _t.Png8("sync/bedroom_0001/sync_depth_00005.png", new byte[48], 6, 8);   // 8-bit depth
        _t.Text("train_test_inputs/nyudepthv2_train_files_with_gt.txt",
            "/kitchen_0028b/rgb_00045.jpg /kitchen_0028b/sync_depth_00045.png 518.8579",
            "/bedroom_0001/rgb_00001.jpg /bedroom_0001/sync_depth_00001.png 518.8579",
            "/bedroom_0001/rgb_00002.jpg /bedroom_0001/sync_depth_00002.png 518.8579",
            "/bedroom_0001/rgb_00003.jpg /bedroom_0001/sync_depth_00004.png 518.8579",
            "",
            "/bedroom_0001/rgb_00001.jpg /bedroom_0001/sync_depth_00001.png",
            "/bedroom_0001/rgb_00001.jpg /bedroom_0001/sync_depth_00001.png focal",
            "/bedroom_0001/rgb_00005.jpg /bedroom_0001/sync_depth_00005.png 518.8579");
    }

    [Fact]
    public void NyuLoadsMillimetreDepthAsMetresAndReportsBadLinesWithTheirNumbers()
    {
        BuildNyu();
        using var scope = Scope.Enter();
        var ds = NyuDepthV2.Open(_t.Root, "train");
        var list = _t["train_test_inputs/nyudepthv2_train_files_with_gt.txt"];
        Assert.Equal(3, ds.Count);
        Assert.Equal(7, ds.Lines);
        Assert.Equal(
            new[]
            {
                $"{list}:4: image 'bedroom_0001/rgb_00003.jpg' and depth 'bedroom_0001/sync_depth_00004.png' do not match: frame 00003 and depth frame 00004 differ",
                $"{list}:6: expected '<image> <depth> <focal>', got 2 field(s): '/bedroom_0001/rgb_00001.jpg /bedroom_0001/sync_depth_00001.png'",
                $"{list}:7: focal length 'focal' is not a positive number",
                $"{_t["sync/bedroom_0001/sync_depth_00002.png"]}: depth file missing (split file {list} line 3)",
            },
            ds.Problems.Select(p => p.ToString()));

        using var s = ds.Load(0);
        Assert.Equal(new long[] { 3, 6, 8 }, s.Image.Shape);
        Assert.Equal(518.8579, s.Focal);
        var expected = Depth(6, 8, 1);
        Assert.Equal(expected.Select(v => (float)(v / 1000.0)).ToArray(), s.Depth.ToArray<float>());
        Assert.Equal(expected.Select(v => v > 0).ToArray(), s.Valid.ToArray<bool>());

        var bad = ds.Check(2);
        Assert.Equal(_t["sync/bedroom_0001/sync_depth_00005.png"], bad!.Path);
        Assert.Equal("depth must be a single-channel 16-bit PNG, got 1 channel(s) of 8 bits", bad.Message);
        Assert.Contains("16-bit", ds.Check(2, decode: false)!.Message);
    }

    private void BuildKitti()
    {
        const string raw = "2011_09_26/2011_09_26_drive_0002_sync/image_02/data";
        const string gt = "2011_09_26_drive_0002_sync/proj_depth/groundtruth/image_02";
        _t.RgbPng($"{raw}/0000000069.png", 12, 30, 1);
        _t.Png16($"data_depth_annotated/val/{gt}/0000000069.png", Depth(12, 30, 1), 12, 30);
        _t.RgbPng($"{raw}/0000000070.png", 12, 30, 2);
        _t.Png16($"data_depth_annotated/train/{gt}/0000000070.png", Depth(12, 30, 2), 12, 30);
        _t.RgbPng($"{raw}/0000000071.png", 12, 30, 3);                            // depth missing
        _t.RgbPng($"{raw}/0000000072.png", 12, 30, 4);
        _t.Png16($"data_depth_annotated/val/{gt}/0000000072.png", Depth(12, 31, 4), 12, 31);
        _t.Text("train_test_inputs/eigen_test_files_with_gt.txt",
            $"{raw}/0000000069.png {gt}/0000000069.png 721.5377",
            $"{raw}/0000000068.png None 721.5377",
            $"{raw}/0000000070.png {gt}/0000000070.png 721.5377",
            $"{raw}/0000000071.png {gt}/0000000071.png 721.5377",
            $"{raw}/0000000070.png {gt}/0000000069.png 721.5377",
            $"{raw}/0000000070.png 2011_09_26_drive_0001_sync/proj_depth/groundtruth/image_02/0000000070.png 721.5377",
            $"{raw}/0000000072.png {gt}/0000000072.png 721.5377");
    }

    [Fact]
    public void KittiFindsDepthUnderTrainOrValAndScalesBy256()
    {
        BuildKitti();
        using var scope = Scope.Enter();
        var ds = KittiDepth.Open(_t.Root, "test");
        var list = _t["train_test_inputs/eigen_test_files_with_gt.txt"];
        Assert.Equal(7, ds.Lines);
        Assert.Equal(1, ds.WithoutGroundTruth);
        Assert.Equal(3, ds.Count);
        Assert.Equal(
            new[]
            {
                (list, 5, "frame 0000000070 and depth frame 0000000069 differ"),
                (list, 6, "drives '2011_09_26_drive_0002_sync' and '2011_09_26_drive_0001_sync' differ"),
                (_t["data_depth_annotated/2011_09_26_drive_0002_sync/proj_depth/groundtruth/image_02/0000000071.png"], 0, "depth file missing"),
            },
            ds.Problems.Select(p => (p.Path, p.Line, p.Message.Split(": ")[^1].Split(" (split")[0])));

        using var s = ds.Load(1);
        Assert.EndsWith("train/2011_09_26_drive_0002_sync/proj_depth/groundtruth/image_02/0000000070.png", s.DepthPath);
        Assert.Equal(721.5377, s.Focal);
        Assert.Equal(Depth(12, 30, 2).Select(v => (float)(v / 256.0)).ToArray(), s.Depth.ToArray<float>());
        Assert.Equal(Depth(12, 30, 2).Select(v => v > 0).ToArray(), s.Valid.ToArray<bool>());
        var mismatch = ds.Check(2);
        Assert.Equal(ds[2].Depth, mismatch!.Path);
        Assert.Contains("depth is 12×31 but its image", mismatch.Message);
    }

    [Fact]
    public void KbCropIsBottomCentredOnImageAndDepth()
    {
        BuildKitti();
        using var scope = Scope.Enter();
        Assert.Equal(new CropWindow(375 - 352, 13, 352, 1216), KittiDepth.KbCrop(375, 1242));
        var full = KittiDepth.Open(_t.Root, "test");
        var cropped = KittiDepth.Open(_t.Root, "test", kbCrop: true, cropHeight: 8, cropWidth: 25);
        using var a = full.Load(0);
        using var b = cropped.Load(0);
        // top = 12 − 8 = 4, left = (30 − 25) / 2 = 2
        Assert.Equal(new long[] { 3, 8, 25 }, b.Image.Shape);
        Assert.Equal(a.Image.Narrow(1, 4, 8).Narrow(2, 2, 25).Contiguous().ToArray<byte>(), b.Image.ToArray<byte>());
        Assert.Equal(a.Depth.Narrow(0, 4, 8).Narrow(1, 2, 25).Contiguous().ToArray<float>(), b.Depth.ToArray<float>());
        Assert.Equal(a.Valid.Narrow(0, 4, 8).Narrow(1, 2, 25).Contiguous().ToArray<bool>(), b.Valid.ToArray<bool>());
        // The real KB crop does not fit these small frames: a clear error naming the image.
        var kb = KittiDepth.Open(_t.Root, "test", kbCrop: true);
        var ex = Assert.Throws<InvalidDataException>(() => kb.Load(0));
        Assert.Equal($"{kb[0].Image}: image is 12×30, smaller than the 352×1216 kitti crop", ex.Message);
    }

    [Fact]
    public void DataCheckCountsLinesAndGroundTruthAndNotesAbsentSplits()
    {
        BuildKitti();
        var r = DatasetChecker.Check("kitti", _t.Root);
        var split = Assert.Single(r.Splits);
        Assert.Equal(("test", 3), (split.Name, split.Samples));
        Assert.Contains(("without ground truth (None)", "1"), split.Facts);
        Assert.Contains(r.Notes, n => n.StartsWith("split 'train' not present", StringComparison.Ordinal));
        Assert.Equal(4, r.Problems.Count); // 2 bad lines, 1 missing depth, 1 size mismatch
        var asked = DatasetChecker.Check("kitti", _t.Root, new CheckOptions { Split = "train" });
        Assert.Equal("split 'train' not found", Assert.Single(asked.Problems).Message);
        Assert.False(DatasetChecker.Check("nyu", _t["nowhere"]).Ok);
    }
}
