using Reproduce.Vision.Data.Datasets;

namespace Reproduce.Vision.Tests.Data;

public sealed class Ade20kTests : IDisposable
{
    private const string A = "ADEChallengeData2016";
    private readonly FixtureTree _t = new();

    public void Dispose() => _t.Dispose();

    private static byte[] Labels(int h, int w, params byte[] values) =>
        Enumerable.Range(0, h * w).Select(i => values[i % values.Length]).ToArray();

    private void Build()
    {
        _t.Jpeg($"{A}/images/training/ADE_train_00000001.jpg", 6, 8, 1);
        _t.Png8($"{A}/annotations/training/ADE_train_00000001.png", Labels(6, 8, 0, 1, 2, 150, 7), 6, 8);
        _t.Jpeg($"{A}/images/training/ADE_train_00000002.jpg", 6, 8, 2);
        _t.Png8($"{A}/annotations/training/ADE_train_00000002.png", Labels(6, 8, 3, 151, 3, 200), 6, 8); // out of range
        _t.Jpeg($"{A}/images/training/ADE_train_00000003.jpg", 6, 8, 3);                              // no annotation
        _t.Jpeg($"{A}/images/training/ADE_train_00000004.jpg", 6, 8, 4);
        _t.Png8($"{A}/annotations/training/ADE_train_00000004.png", Labels(5, 8, 1), 5, 8);          // wrong size
        _t.Jpeg($"{A}/images/training/ADE_train_00000005.jpg", 6, 8, 5);
        _t.Png8($"{A}/annotations/training/ADE_train_00000005.png", Labels(6, 8 * 3, 1), 6, 8, channels: 3); // RGB annotation
        _t.Png8($"{A}/annotations/training/ADE_train_00000009.png", Labels(6, 8, 1), 6, 8);          // no image
        _t.Jpeg($"{A}/images/validation/ADE_val_00000001.jpg", 4, 4, 6);
        _t.Png8($"{A}/annotations/validation/ADE_val_00000001.png", Labels(4, 4, 5), 4, 4);
    }

    [Fact]
    public void LayoutScanPairsFilesAndReportsMissingAndOrphanAnnotations()
    {
        Build();
        var ds = new Ade20k(_t.Root, "training"); // the parent of ADEChallengeData2016 is accepted too
        Assert.Equal(_t[A], ds.Root);
        Assert.Equal(150, ds.Classes.Count);
        Assert.Equal("wall", ds.Classes[0]);
        Assert.Equal("flag", ds.Classes[149]);
        Assert.Equal(4, ds.Count);
        Assert.Equal(
            new[]
            {
                $"{_t[A + "/annotations/training/ADE_train_00000003.png"]}: annotation missing for {_t[A + "/images/training/ADE_train_00000003.jpg"]}",
                $"{_t[A + "/annotations/training/ADE_train_00000009.png"]}: annotation without an image",
            },
            ds.Problems.Select(p => p.ToString()));
        Assert.Throws<ArgumentException>(() => new Ade20k(_t[A], "test"));
        Assert.Equal(1, new Ade20k(_t[A], "val").Count);
    }

    [Fact]
    public void LabelsAreReducedExactlyAndBadAnnotationsNameTheirPath()
    {
        Build();
        using var scope = Scope.Enter();
        var ds = new Ade20k(_t[A], "training");
        using (var s = ds.Load(0))
        {
            Assert.Equal(new long[] { 3, 6, 8 }, s.Image.Shape);
            Assert.Equal(new long[] { 6, 8 }, s.Label.Shape);
            Assert.Equal(ScalarType.Int64, s.Label.DType);
            // reduce_zero_label: 0 → 255, v → v − 1
            var expected = Labels(6, 8, 0, 1, 2, 150, 7).Select(v => v == 0 ? 255L : v - 1L).ToArray();
            Assert.Equal(expected, s.Label.ToArray<long>());
        }
        var raw = new Ade20k(_t[A], "training", reduceZeroLabel: false);
        using (var s = raw.Load(0))
            Assert.Equal(Labels(6, 8, 0, 1, 2, 150, 7).Select(v => (long)v).ToArray(), s.Label.ToArray<long>());

        var range = ds.Check(1);
        Assert.Equal(ds[1].Label, range!.Path);
        Assert.Equal("label 200 outside 0..150 (24 pixels above 150; 150 classes)", range.Message);
        Assert.StartsWith(ds[1].Label + ": label 200", Assert.Throws<InvalidDataException>(() => ds.Load(1)).Message);

        var size = ds.Check(2);
        Assert.Equal(ds[2].Label, size!.Path);
        Assert.Contains("annotation is 5×8 but its image", size.Message);
        var rgb = ds.Check(3);
        Assert.Equal(ds[3].Label, rgb!.Path);
        Assert.Contains("single-channel 8-bit PNG", rgb.Message);

        // Header-only checks see the size and channel problems, not the label values.
        Assert.Null(ds.Check(1, decode: false));
        Assert.Contains("5×8", ds.Check(2, decode: false)!.Message);
        Assert.Contains("3 channel(s)", ds.Check(3, decode: false)!.Message);
    }

    [Fact]
    public void ObjectInfoFileSetsTheClassesAndItsBadLinesAreReportedWithLineNumbers()
    {
        Build();
        _t.Text($"{A}/objectInfo150.txt", "Idx\tRatio\tTrain\tVal\tName", "1\t0.5\t10\t1\twall;brick wall", "2\t0.1\t5\t1\tfloor", "3 oops", "3\t0.1\t4\t1\tsky");
        var ds = new Ade20k(_t[A], "validation");
        Assert.Equal(new[] { "wall", "floor", "sky" }, ds.Classes);
        var p = Assert.Single(ds.Problems);
        Assert.Equal((_t[A + "/objectInfo150.txt"], 4), (p.Path, p.Line));
        Assert.StartsWith(_t[A + "/objectInfo150.txt"] + ":4: expected 5 tab-separated columns", p.ToString());
        // With 3 classes, label 5 of the validation annotation is out of range.
        Assert.Equal("label 5 outside 0..3 (16 pixels above 3; 3 classes)", ds.Check(0)!.Message);
    }

    [Fact]
    public void DataCheckReportsEveryBadSampleOfBothSplits()
    {
        Build();
        var r = DatasetChecker.Check("ade20k", _t[A]);
        Assert.Equal(new[] { ("training", 4), ("validation", 1) }, r.Splits.Select(s => (s.Name, s.Samples)));
        Assert.Equal(
            new[] { "ADE_train_00000003.png", "ADE_train_00000009.png", "ADE_train_00000002.png", "ADE_train_00000004.png", "ADE_train_00000005.png" },
            r.Problems.Select(p => Path.GetFileName(p.Path)));
        Assert.Empty(DatasetChecker.Check("ade20k", _t[A], new CheckOptions { Split = "val" }).Problems);
    }
}
