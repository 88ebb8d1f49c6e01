using Reproduce.Torch.IO;
using Reproduce.Vision.Data.Datasets;

namespace Reproduce.Vision.Tests.Data;

public sealed class ImageNetFolderTests : IDisposable
{
    private readonly FixtureTree _t = new();

    public void Dispose() => _t.Dispose();

    private void Build()
    {
        _t.Jpeg("train/n01443537/n01443537_10.JPEG", 24, 32, 1);
        _t.Jpeg("train/n01440764/n01440764_2.JPEG", 48, 64, 2);
        _t.Jpeg("train/n01440764/n01440764_10.JPEG", 16, 16, 3);
        _t.Jpeg("train/n01443537/n01443537_7.JPEG", 96, 96, 4);
        _t.Truncate("train/n01443537/n01443537_7.JPEG");
        _t.RgbPng("train/n01443537/n01443537_8.JPEG", 8, 8, 5); // a PNG named .JPEG, as one real ImageNet file is
        _t.Text("train/n01443537/readme.txt", "not an image");
        _t.Dir("train/n09999999");
        _t.Jpeg("val/n01440764/ILSVRC2012_val_00000293.JPEG", 16, 16, 6);
        _t.Jpeg("val/n02000000/ILSVRC2012_val_00000001.JPEG", 16, 16, 7);
        _t.Jpeg("val/ILSVRC2012_val_00000002.JPEG", 16, 16, 8);
    }

    [Fact]
    public void ClassesAreSortedWnidsAndSamplesFollowClassThenFileOrder()
    {
        Build();
        var ds = new ImageNetFolder(_t.Root, "train");
        Assert.Equal(new[] { "n01440764", "n01443537", "n09999999" }, ds.Classes);
        Assert.Equal(5, ds.Count);
        Assert.Equal(new[] { "n01440764_10.JPEG", "n01440764_2.JPEG", "n01443537_10.JPEG", "n01443537_7.JPEG", "n01443537_8.JPEG" },
            Enumerable.Range(0, ds.Count).Select(i => Path.GetFileName(ds[i].Path)));
        Assert.Equal(new[] { 0, 0, 1, 1, 1 }, Enumerable.Range(0, ds.Count).Select(i => ds[i].Label));
        Assert.Equal(
            new[] { (_t["train/n01443537/readme.txt"], "not an image file"), (_t["train/n09999999"], "class folder holds no images") },
            ds.Problems.Select(p => (p.Path, p.Message.Split(" (")[0])));
    }

    [Fact]
    public void GoodImagesLoadAsTheirDecodedPixelsAndBadOnesNameTheirPath()
    {
        Build();
        using var scope = Scope.Enter();
        var ds = new ImageNetFolder(_t.Root, "train");
        using var s = ds.Load(1);
        Assert.Equal(new long[] { 3, 48, 64 }, s.Image.Shape);
        Assert.Equal(0, s.Label);
        var direct = ImageCodec.DecodeJpeg(File.ReadAllBytes(ds[1].Path));
        Assert.Equal(direct.ToArray<byte>(), s.Image.ToArray<byte>());
        var hwc = s.Image.Permute(1, 2, 0).Contiguous().ToArray<byte>();
        var known = FixtureTree.Pixels(48, 64, 2);
        Assert.True(hwc.Zip(known).Max(p => Math.Abs(p.First - p.Second)) <= 4, "q98 JPEG stays within 4 of its pixels");
        using var png = ds.Load(4);
        Assert.Equal(FixtureTree.Pixels(8, 8, 5), png.Image.Permute(1, 2, 0).Contiguous().ToArray<byte>());

        Assert.Null(ds.Check(0));
        var bad = ds.Check(3);
        Assert.NotNull(bad);
        Assert.Equal(ds[3].Path, bad.Path);
        Assert.StartsWith("truncated JPEG", bad.Message);
        Assert.Null(ds.Check(3, decode: false)); // the header of the truncated file is intact
        var ex = Assert.Throws<InvalidDataException>(() => ds.Load(3));
        Assert.StartsWith(ds[3].Path + ": truncated JPEG", ex.Message);
    }

    [Fact]
    public void DctDownscaledDecodingKeepsTheShorterSideAtLeastTheRequest()
    {
        Build();
        using var scope = Scope.Enter();
        var ds = new ImageNetFolder(_t.Root, "train", decodeMinSide: 20);
        using var s = ds.Load(1); // 48×64 → 3/8 gives 18 < 20, so 4/8: 24×32
        Assert.Equal(new long[] { 3, 24, 32 }, s.Image.Shape);
    }

    [Fact]
    public void ValUsesTrainClassesAndReportsLooseImagesAndUnknownClasses()
    {
        Build();
        var train = new ImageNetFolder(_t.Root, "train");
        var val = new ImageNetFolder(_t.Root, "val", train.Classes);
        Assert.Equal(1, val.Count);
        Assert.Equal(0, val[0].Label);
        var problems = val.Problems.Select(p => p.ToString()).ToList();
        Assert.Contains(problems, p => p.StartsWith(_t["val/ILSVRC2012_val_00000002.JPEG"] + ": image outside a class folder", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith(_t["val/n02000000"] + ": class folder 'n02000000' is not one of the 3", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith(_t["val/n01443537"] + ": class folder is missing", StringComparison.Ordinal));
        Assert.Throws<DirectoryNotFoundException>(() => new ImageNetFolder(_t.Root, "test"));
    }

    [Fact]
    public void DataCheckCountsClassesAndListsEveryProblemWithItsPath()
    {
        Build();
        var r = DatasetChecker.Check("imagenet", _t.Root);
        Assert.False(r.Ok);
        Assert.Equal(new[] { ("train", 5, 5), ("val", 1, 1) }, r.Splits.Select(s => (s.Name, s.Samples, s.Checked)));
        Assert.Equal(3, r.Classes.Count);
        Assert.Contains(r.Notes, n => n.Contains("3 classes (ImageNet-1k has 1000)"));
        Assert.Contains(r.Problems, p => p.Path == _t["train/n01443537/n01443537_7.JPEG"] && p.Message.StartsWith("truncated JPEG", StringComparison.Ordinal));
        Assert.Equal(7, r.Problems.Count); // readme, empty class, truncated; loose val image, unknown class, 2 classes without a val folder
        var headers = DatasetChecker.Check("imagenet", _t.Root, new CheckOptions { Decode = false, Split = "train" });
        Assert.Equal(2, headers.Problems.Count); // the truncation needs a decode to show
    }
}
