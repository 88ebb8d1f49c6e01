using Reproduce.Torch.IO;
using Reproduce.Vision.Data.TokenLabels;

namespace Reproduce.Vision.Tests;

public sealed class TokenLabelStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tlstore-" + Guid.NewGuid().ToString("N"));

    public TokenLabelStoreTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static (Tensor Values, Tensor Indices) Record(int seed, int k = 5, int h = 3, int w = 4, int classes = 1000)
    {
        var scores = Torch.Torch.Randn([classes, h, w], new Generator((ulong)seed)).Mul(4.0);
        var (v, i) = scores.TopK(k, dim: 0);
        return (v, i);
    }

    [Fact]
    public void RoundTripsRecordsByIndexAndKeyWithFp16Values()
    {
        using var scope = Scope.Enter();
        var path = PathOf("train.tlstore");
        var records = Enumerable.Range(0, 5).Select(i => Record(i)).ToArray();
        using (var writer = new TokenLabelStoreWriter(path, 5, 3, 4, 1000))
        {
            for (var i = 0; i < records.Length; i++) writer.Add($"n0144{i}/img_{i}", records[i].Values, records[i].Indices);
            writer.Complete();
        }
        using var store = TokenLabelStore.Open(path);
        Assert.Equal(5, store.Count);
        Assert.Equal(new TokenLabelStoreFormat(5, 3, 4, 1000), store.Format);
        Assert.Equal("n01443/img_3", store.Keys[3]);
        Assert.True(store.TryGetIndex("n01442/img_2", out var idx));
        Assert.Equal(2, idx);
        Assert.False(store.Contains("missing"));
        var e = Assert.Throws<KeyNotFoundException>(() => store.Read("missing"));
        Assert.Contains(path, e.Message);
        for (var i = 0; i < records.Length; i++)
        {
            var byIndex = store.Read(i);
            var byKey = store.Read($"n0144{i}/img_{i}");
            Assert.True(byIndex.Indices.Equal(records[i].Indices));
            Assert.True(byKey.Values.Equal(byIndex.Values));
            // Values are stored as fp16: equal to the fp16 rounding of the originals.
            Assert.True(byIndex.Values.Equal(records[i].Values.To(ScalarType.Float16).To(ScalarType.Float32)));
        }
        // File size: header + 5 records of 5·3·4·(2+2) bytes + the index.
        var indexBytes = records.Select((_, i) => 2 + $"n0144{i}/img_{i}".Length).Sum();
        Assert.Equal(64 + 5 * 240 + indexBytes, new FileInfo(path).Length);
    }

    [Fact]
    public void ConcurrentReadsAreSafe()
    {
        var path = PathOf("c.tlstore");
        using (Scope.Enter())
        using (var writer = new TokenLabelStoreWriter(path, 2, 4, 4, 50))
        {
            for (var i = 0; i < 16; i++)
            {
                var (v, ix) = Record(i, 2, 4, 4, 50);
                writer.Add($"k{i}", v, ix);
            }
            writer.Complete();
        }
        using var store = TokenLabelStore.Open(path);
        long[] Sums(int i)
        {
            using var s = Scope.Enter();
            return [store.Read(i).Indices.Sum().ToInt64()];
        }
        var serial = Enumerable.Range(0, 16).Select(i => Sums(i)[0]).ToArray();
        var parallel = new long[16];
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, n => parallel[n % 16] = Sums(n % 16)[0]);
        Assert.Equal(serial, parallel);
    }

    [Fact]
    public void WritesAreAtomic()
    {
        using var scope = Scope.Enter();
        var path = PathOf("atomic.tlstore");
        var (v, i) = Record(1);
        using (var first = new TokenLabelStoreWriter(path, 5, 3, 4, 1000))
        {
            first.Add("a", v, i);
            first.Complete();
        }
        var before = File.ReadAllBytes(path);
        // An abandoned writer leaves the existing store untouched and no temporary file behind.
        using (var second = new TokenLabelStoreWriter(path, 5, 3, 4, 1000))
        {
            second.Add("b", v, i);
            second.Add("c", v, i);
            Assert.Equal(before, File.ReadAllBytes(path));
        }
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["atomic.tlstore"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void BadInputIsReportedWithKeyOrPath()
    {
        using var scope = Scope.Enter();
        var path = PathOf("bad.tlstore");
        var (v, i) = Record(2);
        using (var writer = new TokenLabelStoreWriter(path, 5, 3, 4, 1000))
        {
            writer.Add("x", v, i);
            Assert.Contains("duplicate key 'x'", Assert.Throws<ArgumentException>(() => writer.Add("x", v, i)).Message);
            Assert.Contains("[5,3,4]", Assert.Throws<ArgumentException>(() => writer.Add("y", v.Narrow(0, 0, 2), i.Narrow(0, 0, 2))).Message);
            Assert.Contains("outside 0..999", Assert.Throws<ArgumentException>(() => writer.Add("z", v, i.Add(1000L))).Message);
            writer.Add("w", v, i);
            writer.Complete();
        }
        using (var ok = TokenLabelStore.Open(path)) Assert.Equal(["x", "w"], ok.Keys);
        Assert.Throws<ArgumentException>(() => new TokenLabelStoreWriter(PathOf("big.tlstore"), 5, 3, 4, 70_000));

        // Truncation and foreign files are caught on open, naming the file.
        var bytes = File.ReadAllBytes(path);
        var truncated = PathOf("truncated.tlstore");
        File.WriteAllBytes(truncated, bytes[..^3]);
        Assert.Contains(truncated, Assert.Throws<InvalidDataException>(() => TokenLabelStore.Open(truncated)).Message);
        var foreign = PathOf("foreign.tlstore");
        File.WriteAllBytes(foreign, new byte[100]);
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => TokenLabelStore.Open(foreign)).Message);
        Assert.Throws<FileNotFoundException>(() => TokenLabelStore.Open(PathOf("none.tlstore")));
    }

    [Fact]
    public void AddScoresKeepsTheTopK()
    {
        using var scope = Scope.Enter();
        var path = PathOf("scores.tlstore");
        var scores = Torch.Torch.Randn([20, 2, 3], new Generator(4));
        using (var writer = new TokenLabelStoreWriter(path, 3, 2, 3, 20))
        {
            writer.AddScores("img", scores);
            writer.Complete();
        }
        using var store = TokenLabelStore.Open(path);
        var map = store.Read("img");
        Assert.True(map.Indices.Select(0, 0).Equal(scores.Argmax(0)));
        // Dense map: each cell's top score sits at its argmax class, other non-top-k classes are 0.
        var dense = map.Dense(20);
        Assert.True(dense.Amax([0]).AllClose(scores.Amax([0]), 1e-2, 1e-2));
        Assert.Equal(2 * 3 * (20 - 3), dense.Eq(0.0).Sum().ToInt64());
    }

    [Fact]
    public void OfficialLabelFilesAreReadFromTheWnidLayout()
    {
        using var scope = Scope.Enter();
        var wnid = Path.Combine(_dir, "official", "n01440764");
        Directory.CreateDirectory(wnid);
        File.Copy(TransformFixture.TokenLabelFile, Path.Combine(wnid, "n01440764_10026.pt"));
        var source = new OfficialTokenLabels(Path.Combine(_dir, "official"));
        Assert.True(source.Contains("n01440764/n01440764_10026"));
        var map = source.Read("n01440764/n01440764_10026");
        Assert.Equal(new long[] { 5, 4, 5 }, map.Values.Shape);
        Assert.Equal(ScalarType.Int64, map.Indices.DType);
        // Scores are sorted per cell (topk), indices distinct per cell.
        Assert.True(map.Values.Select(0, 0).Ge(map.Values.Select(0, 1)).All().ToInt64() == 1);
        var e = Assert.Throws<KeyNotFoundException>(() => source.Read("n01440764/missing"));
        Assert.Contains("missing.pt", e.Message);
    }

    [Fact]
    public void TorchPickleRejectsNonZipPayloadsAndWrongShapes()
    {
        using var scope = Scope.Enter();
        var legacy = PathOf("legacy.pt");
        File.WriteAllBytes(legacy, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc]);
        var e = Assert.Throws<InvalidDataException>(() => TorchPickle.LoadTensors(legacy));
        Assert.Contains(legacy, e.Message);
        Assert.Contains("zip", e.Message);
        var truncated = PathOf("truncated.pt");
        File.WriteAllBytes(truncated, File.ReadAllBytes(TransformFixture.TokenLabelFile)[..400]);
        Assert.Contains(truncated, Assert.Throws<InvalidDataException>(() => TorchPickle.LoadTensors(truncated)).Message);
        var shape = Assert.Throws<InvalidDataException>(() => OfficialTokenLabels.Parse([Torch.Torch.Zeros([3, 5, 2, 2])], "x.pt"));
        Assert.Contains("[2,k,H,W]", shape.Message);
        var fractional = Torch.Torch.Full([2, 1, 2, 2], 0.5);
        Assert.Contains("integer class indices", Assert.Throws<InvalidDataException>(() => OfficialTokenLabels.Parse([fractional], "y.pt")).Message);
    }
}
