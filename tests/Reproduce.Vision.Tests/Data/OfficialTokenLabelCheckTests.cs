using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Data.TokenLabels;

namespace Reproduce.Vision.Tests.Data;

/// <summary>
/// <see cref="OfficialTokenLabelCheck"/> on stand-ins of the released <c>label_top5_train_nfnet</c> files
/// (tests/fixtures/gen_token_labels.py: torch.save'd exactly as generate_label.py does) and a six-class ImageNet tree
/// named like them.
/// </summary>
public sealed class OfficialTokenLabelCheckTests : IDisposable
{
    private static readonly string[] Wnids = ["n01440764", "n01443537", "n01484850", "n01491361", "n01494475", "n01496331"];
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "fixtures", "token-labels");
    private readonly FixtureTree _t = new();

    public OfficialTokenLabelCheckTests()
    {
        foreach (var (w, i) in Wnids.Select((w, i) => (w, i)))
        {
            Directory.CreateDirectory(_t[$"in/train/{w}"]);
            _t.Jpeg($"in/train/{w}/{w}_0.JPEG", 20, 24, i);
            var target = _t[$"labels/{w}"];
            Directory.CreateDirectory(target);
            File.Copy(Path.Combine(Fixtures, OfficialTokenLabels.FolderName, w, $"{w}_0.pt"), Path.Combine(target, $"{w}_0.pt"));
        }
    }

    public void Dispose() => _t.Dispose();

    private DatasetReport Check() => OfficialTokenLabelCheck.Check(_t["labels"], _t["in"]);

    private string Label(int c) => _t[$"labels/{Wnids[c]}/{Wnids[c]}_0.pt"];

    [Fact]
    public void StandInsInTheReleasedFormatPass()
    {
        var r = Check();
        Assert.True(r.Ok, string.Join("\n", r.Problems));
        var split = Assert.Single(r.Splits);
        Assert.Equal((6, 6), (split.Samples, split.Checked));
        Assert.Contains(("images with a label file", "6 of 6"), split.Facts);
        Assert.Contains(("expected per file", "float16 [2,5,18,18]"), split.Facts);
        Assert.Equal(Wnids, r.Classes);

        // What the trainer reads from them: values sorted per cell, indices int64 within the six classes.
        using var scope = Scope.Enter();
        var map = new OfficialTokenLabels(_t["labels"]).Read($"{Wnids[2]}/{Wnids[2]}_0");
        Assert.Equal([5L, 18, 18], map.Values.Shape);
        Assert.Equal(ScalarType.Int64, map.Indices.DType);
        Assert.InRange(map.Indices.Max().ToInt64(), 0, 5);
        // The generator favours the image's own class: it is the top-1 index at most cells.
        Assert.True(map.Indices.Select(0, 0).Eq(2).To(ScalarType.Float32).Mean().ToDouble() > 0.5);
    }

    [Fact]
    public void MissingAndExtraFilesAreNamed()
    {
        File.Delete(Label(1));
        var extra = _t[$"labels/{Wnids[0]}/{Wnids[0]}_99.pt"];
        File.Copy(Label(0), extra);
        var r = Check();
        Assert.Equal(2, r.Problems.Count);
        var missing = Assert.Single(r.Problems, p => p.Path == Label(1));
        Assert.Contains("missing", missing.Message, StringComparison.Ordinal);
        Assert.Contains($"{Wnids[1]}_0.JPEG", missing.Message, StringComparison.Ordinal);
        Assert.Contains("no training image of this name", Assert.Single(r.Problems, p => p.Path == extra).Message, StringComparison.Ordinal);
        Assert.Contains(("images with a label file", "5 of 6"), r.Splits[0].Facts);
    }

    [Theory]
    [InlineData("float32.pt", "float32[2,5,18,18]")]
    [InlineData("shape14.pt", "float16[2,5,14,14]")]
    [InlineData("index999.pt", "class index 999 beyond the 6 classes")]
    public void MisShapedOrOutOfRangeFilesAreNamed(string bad, string expected)
    {
        File.Copy(Path.Combine(Fixtures, "bad", bad), Label(3), overwrite: true);
        var p = Assert.Single(Check().Problems);
        Assert.Equal(Label(3), p.Path);
        Assert.Contains(expected, p.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CorruptFilesAreNamed()
    {
        File.WriteAllBytes(Label(4), File.ReadAllBytes(Label(4))[..500]);
        File.WriteAllText(Label(5), "not a torch.save file");
        var r = Check();
        Assert.Equal([Label(4), Label(5)], r.Problems.Select(p => p.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AMissingFolderGivesTheDownloadPlan()
    {
        var r = OfficialTokenLabelCheck.Check(_t["nowhere"], _t["in"]);
        var p = Assert.Single(r.Problems);
        Assert.Equal(_t["nowhere"], p.Path);
        Assert.Contains(OfficialTokenLabels.DownloadUrl, p.Message, StringComparison.Ordinal);
        Assert.Contains("REPRODUCE_TOKEN_LABELS", p.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileNamesFollowGenerateLabelPy()
    {
        // '/'.join(path.split('/')[-2:]).split('.')[0] + '.pt': the file name is cut at its first '.'.
        var labels = new OfficialTokenLabels(_t["labels"]);
        Assert.Equal(_t["labels/n01440764/n01440764_10026.pt"], labels.PathOf("n01440764/n01440764_10026"));
        Assert.Equal(_t["labels/n01440764/img.pt"], labels.PathOf("n01440764/img.v2"));
    }
}
