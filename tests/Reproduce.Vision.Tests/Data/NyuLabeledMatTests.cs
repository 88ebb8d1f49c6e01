using System.Buffers.Binary;
using System.Text.Json;
using Reproduce.Torch.IO;
using Reproduce.Vision.Data.Datasets;

namespace Reproduce.Vision.Tests.Data;

/// <summary>
/// NYUv2 from the official labeled .mat and splits.mat, against miniature files written by h5py and scipy with the
/// official names, dtypes and layout (tests/fixtures/gen_nyu_mat.py) and the frames BTS's converter makes of them.
/// </summary>
public sealed class NyuLabeledMatTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "fixtures", "nyu_mat");
    private static readonly JsonElement Expected =
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixtures, "nyu_mat_expected.json"))).RootElement;

    private readonly FixtureTree _t = new();

    public void Dispose() => _t.Dispose();

    private static int H => Expected.GetProperty("height").GetInt32();

    private static int W => Expected.GetProperty("width").GetInt32();

    /// <summary>The labeled .mat with one of the split-file variants as splits.mat, in a fresh folder.</summary>
    private string Root(string splits = "splits_v5_compressed.mat")
    {
        File.Copy(Path.Combine(Fixtures, NyuLabeledMat.FileName), _t[NyuLabeledMat.FileName]);
        File.Copy(Path.Combine(Fixtures, splits), _t[NyuOfficialSplits.FileName]);
        return _t.Root;
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    [Theory]
    [InlineData("splits_v5_compressed.mat")]
    [InlineData("splits_v5_plain.mat")]
    [InlineData("splits_v5_uint16.mat")]
    [InlineData("splits_v73.mat")]
    public void TestFramesEqualWhatBtssConverterWritesForEachSplitFileFormat(string splits)
    {
        using var scope = Scope.Enter();
        var ds = Assert.IsType<NyuLabeledMat>(NyuDepthV2.OpenAny(Root(splits), "test"));
        var cases = Expected.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(cases.Count, ds.Count);
        Assert.Empty(ds.Problems);
        for (var i = 0; i < ds.Count; i++)
        {
            var c = cases[i];
            var frame = c.GetProperty("index").GetInt32();
            Assert.Equal(frame, ds.Frame(i));
            using var s = ds.Load(i);
            Assert.Equal(new long[] { 3, H, W }, s.Image.Shape);
            Assert.Equal(Ints(c.GetProperty("image_chw")).Select(v => (byte)v).ToArray(), s.Image.ToArray<byte>());
            var stored = Ints(c.GetProperty("depth_stored"));
            Assert.Equal(stored.Select(v => (float)(v / 1000.0)).ToArray(), s.Depth.ToArray<float>());
            Assert.Equal(stored.Select(v => v > 0).ToArray(), s.Valid.ToArray<bool>());
            Assert.Equal(518.8579, s.Focal);
            Assert.EndsWith($"#{c.GetProperty("scene").GetString()}/rgb_{frame:D5}", s.ImagePath);
        }
        Assert.Equal(Ints(Expected.GetProperty("train")).Select(v => v - 1), Enumerable.Range(0, 3).Select(new NyuLabeledMat(_t[NyuLabeledMat.FileName], _t[NyuOfficialSplits.FileName], "train").Frame));
    }

    [Fact]
    public void FramesFromTheMatEqualTheSameFramesReadFromTheBtsLayout()
    {
        using var scope = Scope.Enter();
        var mat = NyuDepthV2.OpenAny(Root(), "test");
        var lines = new List<string>();
        foreach (var c in Expected.GetProperty("cases").EnumerateArray())
        {
            var (scene, frame) = (c.GetProperty("scene").GetString(), c.GetProperty("index").GetInt32());
            var rgb = $"official_splits/test/{scene}/rgb_{frame:D5}.png";
            Directory.CreateDirectory(Path.GetDirectoryName(_t[rgb])!);
            ImageCodec.SavePng(_t[rgb], Tensor.From(Ints(c.GetProperty("image_chw")).Select(v => (byte)v).ToArray(), [3, H, W]));
            _t.Png16($"official_splits/test/{scene}/sync_depth_{frame:D5}.png", Ints(c.GetProperty("depth_stored")), H, W);
            lines.Add($"/{scene}/rgb_{frame:D5}.png /{scene}/sync_depth_{frame:D5}.png 518.8579");
        }
        _t.Text("train_test_inputs/nyudepthv2_test_files_with_gt.txt", [.. lines]);
        var bts = NyuDepthV2.OpenAny(_t.Root, "test");
        Assert.IsType<DepthDataset>(bts); // the BTS list, when present, is what is read
        Assert.Equal(mat.Count, bts.Count);
        for (var i = 0; i < mat.Count; i++)
        {
            using var a = mat.Load(i);
            using var b = bts.Load(i);
            Assert.Equal(b.Image.ToArray<byte>(), a.Image.ToArray<byte>());
            Assert.Equal(b.Depth.ToArray<float>(), a.Depth.ToArray<float>());
            Assert.Equal(b.Valid.ToArray<bool>(), a.Valid.ToArray<bool>());
        }
        Assert.IsType<NyuLabeledMat>(NyuDepthV2.OpenAny(_t[NyuLabeledMat.FileName], "test")); // the .mat named directly
    }

    [Fact]
    public void BtssUint16TruncationOfTheFloat32ProductIsKept()
    {
        Assert.Equal(1000, NyuLabeledMat.Millimetres(1.0005f)); // float32(1.0005) * 1000 = 1000.49994
        Assert.Equal(0, NyuLabeledMat.Millimetres(0.0004f));
        Assert.Equal(0, NyuLabeledMat.Millimetres(float.NaN));
        Assert.Equal(9999, NyuLabeledMat.Millimetres(9.9999f)); // 9999.9 truncates
    }

    [Fact]
    public void DataCheckReadsTheMatAndNamesItsFiles()
    {
        var root = Root();
        var report = DatasetChecker.Check("nyu", root, new CheckOptions());
        Assert.Empty(report.Problems);
        Assert.Equal(new[] { ("train", 3), ("test", 3) }, report.Splits.Select(s => (s.Name, s.Samples)));
        Assert.Contains(("split file", _t[NyuOfficialSplits.FileName]), report.Splits[1].Facts);
    }

    [Fact]
    public void MissingFilesAreNamed()
    {
        var e = Assert.Throws<FileNotFoundException>(() => NyuDepthV2.OpenAny(_t.Root, "test"));
        Assert.Contains(_t["train_test_inputs/nyudepthv2_test_files_with_gt.txt"], e.Message);
        Assert.Contains(_t[NyuLabeledMat.FileName], e.Message);
        File.Copy(Path.Combine(Fixtures, NyuLabeledMat.FileName), _t[NyuLabeledMat.FileName]);
        e = Assert.Throws<FileNotFoundException>(() => NyuDepthV2.OpenAny(_t.Root, "test"));
        Assert.StartsWith($"{_t[NyuOfficialSplits.FileName]}: NYUv2 split file missing", e.Message);
    }

    [Fact]
    public void AFileWithoutTheDatasetsOrNotHdf5IsAClearError()
    {
        File.Copy(Path.Combine(Fixtures, "splits_v73.mat"), _t["other.mat"]);
        var e = Assert.Throws<InvalidDataException>(() => new NyuLabeledMat(_t["other.mat"], Path.Combine(Fixtures, "splits_v73.mat"), "test"));
        Assert.Equal($"{_t["other.mat"]}: no dataset 'images' (is this nyu_depth_v2_labeled.mat?)", e.Message);
        _t.Text("text.mat", "not a mat file");
        e = Assert.Throws<InvalidDataException>(() => new NyuLabeledMat(_t["text.mat"], Path.Combine(Fixtures, "splits_v73.mat"), "test"));
        Assert.StartsWith($"{_t["text.mat"]}: cannot read it as a MATLAB v7.3 (HDF5) file", e.Message);
    }

    [Fact]
    public void SplitIndicesOutsideTheFramesOrRepeatedOrInBothSplitsAreRefused()
    {
        Assert.Equal(
            $"{_t["s.mat"]}: testNdxs[1] = 7 is not a frame number in 1..6 (the labeled .mat holds 6 frames)",
            SplitError([2, 7], [1]));
        Assert.Equal($"{_t["s.mat"]}: testNdxs lists frame 2 twice", SplitError([2, 2], [1]));
        Assert.Equal($"{_t["s.mat"]}: frames 2 are in both trainNdxs and testNdxs", SplitError([2, 3], [2]));
        Assert.Equal($"{_t["s.mat"]}: testNdxs[0] = 1.5 is not a frame number in 1..6 (the labeled .mat holds 6 frames)", SplitError([1.5], [2]));
    }

    private string SplitError(double[] test, double[] train)
    {
        File.WriteAllBytes(_t["s.mat"], V5File(("testNdxs", test), ("trainNdxs", train)));
        return Assert.Throws<InvalidDataException>(() => NyuOfficialSplits.Read(_t["s.mat"], 6)).Message;
    }

    [Fact]
    public void DamagedV5FilesNameTheFileAndTheProblem()
    {
        var good = V5File(("testNdxs", [2.0, 5.0]), ("trainNdxs", [1.0]));
        File.WriteAllBytes(_t["cut.mat"], good[..(good.Length - 12)]);
        Assert.StartsWith($"{_t["cut.mat"]}: data element at byte ", Assert.Throws<InvalidDataException>(() => MatV5.ReadNumeric(_t["cut.mat"])).Message);
        var compressed = File.ReadAllBytes(Path.Combine(Fixtures, "splits_v5_compressed.mat"));
        compressed[140] ^= 0xFF;
        File.WriteAllBytes(_t["bad.mat"], compressed);
        Assert.StartsWith($"{_t["bad.mat"]}: ", Assert.Throws<InvalidDataException>(() => MatV5.ReadNumeric(_t["bad.mat"])).Message);
        File.WriteAllBytes(_t["none.mat"], V5File(("other", [1.0])));
        Assert.Equal($"{_t["none.mat"]}: no numeric variable 'trainNdxs' (found: other)",
            Assert.Throws<InvalidDataException>(() => NyuOfficialSplits.Read(_t["none.mat"], 6)).Message);
        File.WriteAllBytes(_t["be.mat"], [.. good[..126], (byte)'M', (byte)'I', .. good[128..]]);
        Assert.Contains("big-endian", Assert.Throws<InvalidDataException>(() => MatV5.ReadNumeric(_t["be.mat"])).Message);
    }

    [Fact]
    public void V5ReaderReadsEveryStorageTypeOfTheFixturesAsScipyDoes()
    {
        foreach (var name in new[] { "splits_v5_compressed.mat", "splits_v5_plain.mat", "splits_v5_uint16.mat" })
        {
            var vars = MatV5.ReadNumeric(Path.Combine(Fixtures, name));
            Assert.Equal(new[] { 3, 1 }, vars["testNdxs"].Dims);
            Assert.Equal(Ints(Expected.GetProperty("test")).Select(v => (double)v), vars["testNdxs"].Values);
            Assert.Equal(Ints(Expected.GetProperty("train")).Select(v => (double)v), vars["trainNdxs"].Values);
        }
    }

    /// <summary>An uncompressed little-endian v5 MAT-file of double column vectors (MathWorks' "MAT-File Format").</summary>
    private static byte[] V5File(params (string Name, double[] Values)[] vars)
    {
        var o = new List<byte>();
        o.AddRange("MATLAB 5.0 MAT-file, written by a test"u8.ToArray());
        o.AddRange(Enumerable.Repeat((byte)' ', 116 - o.Count));
        o.AddRange(new byte[8]);
        o.AddRange([0x00, 0x01, (byte)'I', (byte)'M']);
        foreach (var (name, values) in vars)
        {
            var body = new List<byte>();
            body.AddRange(Element(6, [.. U32(6), .. U32(0)]));                 // miUINT32 array flags: mxDOUBLE_CLASS
            body.AddRange(Element(5, [.. U32((uint)values.Length), .. U32(1)])); // miINT32 dimensions n × 1
            body.AddRange(Element(1, System.Text.Encoding.ASCII.GetBytes(name)));  // miINT8 name
            body.AddRange(Element(9, values.SelectMany(v => BitConverter.GetBytes(v)).ToArray())); // miDOUBLE
            o.AddRange(Element(14, [.. body]));                                   // miMATRIX
        }
        return [.. o];

        static byte[] U32(uint v)
        {
            var b = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(b, v);
            return b;
        }

        static byte[] Element(uint type, byte[] data) =>
            [.. U32(type), .. U32((uint)data.Length), .. data, .. new byte[(8 - data.Length % 8) % 8]];
    }
}
