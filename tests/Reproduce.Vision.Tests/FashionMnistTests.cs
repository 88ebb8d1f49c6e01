using System.Buffers.Binary;
using System.IO.Compression;
using Reproduce.Torch;
using Reproduce.Vision.Data;

namespace Reproduce.Vision.Tests;

public sealed class FashionMnistTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fmnist-" + Guid.NewGuid().ToString("N"));

    public FashionMnistTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void DebianPackageLoadsWithTheDocumentedCountsAndBalancedClasses()
    {
        var train = FashionMnist.Load("train");
        var test = FashionMnist.Load("test");
        Assert.Equal(60_000, train.Count);
        Assert.Equal(10_000, test.Count);
        // Fashion-MNIST is balanced: 6,000 train and 1,000 test images per class.
        Assert.All(train.Labels.GroupBy(l => l), g => Assert.Equal(6_000, g.Count()));
        Assert.All(test.Labels.GroupBy(l => l), g => Assert.Equal(1_000, g.Count()));
        // Documented first labels of the test split: ankle boot, pullover, trouser.
        Assert.Equal(new byte[] { 9, 2, 1 }, test.Labels[..3]);
    }

    [Fact]
    public void BatchNormalisesPixelsAndKeepsLabels()
    {
        using var scope = Scope.Enter();
        var split = WriteSplit("train", 3, [4, 7, 9]);
        var (x, y) = split.Batch([2, 0], mean: 0.5, std: 0.25);
        Assert.Equal(new long[] { 2, 1, 28, 28 }, x.Shape);
        Assert.Equal(new long[] { 9, 4 }, y.ToArray<long>());
        var px = x.ToArray<float>();
        // Pixel p of image i is (i·31 + p) mod 256 in WriteSplit.
        Assert.Equal((float)(((2 * 31 + 5) % 256 / 255.0 - 0.5) / 0.25), px[5], 5);
        Assert.Equal((float)((5 % 256 / 255.0 - 0.5) / 0.25), px[28 * 28 + 5], 5);
        Assert.Throws<ArgumentOutOfRangeException>(() => split.Batch([3]));
    }

    [Fact]
    public void MissingFilesNameThePathAndTheAptPackage()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load("train", _dir));
        Assert.Contains("train-images-idx3-ubyte.gz", ex.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", ex.Message);
        Assert.Throws<ArgumentException>(() => FashionMnist.Load("val", _dir));
    }

    [Fact]
    public void CorruptFilesAreRejectedWithTheirPath()
    {
        WriteSplit("test", 2, [1, 2]);
        var images = Path.Combine(_dir, "t10k-images-idx3-ubyte.gz");
        var labels = Path.Combine(_dir, "t10k-labels-idx1-ubyte.gz");

        WriteGz(images, Idx(0x0803, [2, 28, 28], new byte[2 * 28 * 28 - 1]));
        var ex = Assert.Throws<InvalidDataException>(() => FashionMnist.Load("test", _dir));
        Assert.Contains(images, ex.Message);
        Assert.Contains("1567", ex.Message);

        WriteGz(images, Idx(0x0801, [2, 28, 28], new byte[2 * 28 * 28]));
        ex = Assert.Throws<InvalidDataException>(() => FashionMnist.Load("test", _dir));
        Assert.Contains("magic", ex.Message);

        WriteGz(images, Idx(0x0803, [3, 28, 28], new byte[3 * 28 * 28]));
        ex = Assert.Throws<InvalidDataException>(() => FashionMnist.Load("test", _dir));
        Assert.Contains("3 images", ex.Message);
        Assert.Contains("2 labels", ex.Message);

        WriteGz(images, Idx(0x0803, [2, 28, 28], new byte[2 * 28 * 28]));
        WriteGz(labels, Idx(0x0801, [2], [1, 10]));
        ex = Assert.Throws<InvalidDataException>(() => FashionMnist.Load("test", _dir));
        Assert.Contains("label 10", ex.Message);

        File.WriteAllBytes(labels, [1, 2, 3, 4]);
        ex = Assert.Throws<InvalidDataException>(() => FashionMnist.Load("test", _dir));
        Assert.Contains(labels, ex.Message);
    }

    private FashionMnistSplit WriteSplit(string split, int n, byte[] labels)
    {
        var prefix = split == "train" ? "train" : "t10k";
        var px = new byte[n * 28 * 28];
        for (var i = 0; i < n; i++)
            for (var p = 0; p < 28 * 28; p++)
                px[i * 28 * 28 + p] = (byte)((i * 31 + p) % 256);
        WriteGz(Path.Combine(_dir, $"{prefix}-images-idx3-ubyte.gz"), Idx(0x0803, [n, 28, 28], px));
        WriteGz(Path.Combine(_dir, $"{prefix}-labels-idx1-ubyte.gz"), Idx(0x0801, [n], labels));
        return FashionMnist.Load(split, _dir);
    }

    private static byte[] Idx(int magic, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (var d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    private static void WriteGz(string path, byte[] bytes)
    {
        using var f = File.Create(path);
        using var gz = new GZipStream(f, CompressionLevel.Fastest);
        gz.Write(bytes);
    }
}
