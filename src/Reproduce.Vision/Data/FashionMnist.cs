using System.Buffers.Binary;
using System.IO.Compression;
using Reproduce.Torch;

namespace Reproduce.Vision.Data;

/// <summary>One split of Fashion-MNIST: 28×28 uint8 images and their class labels (0–9).</summary>
public sealed record FashionMnistSplit(byte[] Images, byte[] Labels, int Count)
{
    /// <summary>Image side length.</summary>
    public const int Side = 28;

    /// <summary>Class names in label order.</summary>
    public static readonly string[] Classes =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// A float32 batch [n,1,28,28] scaled to [0,1] then normalised with (mean, std), and int64 labels [n],
    /// for the samples at <paramref name="indices"/>.
    /// </summary>
    public (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices, double mean = 0.2860, double std = 0.3530)
    {
        const int px = Side * Side;
        var x = new float[indices.Length * px];
        var y = new long[indices.Length];
        for (var k = 0; k < indices.Length; k++)
        {
            var i = indices[k];
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"sample {i} outside [0, {Count})");
            var src = Images.AsSpan(i * px, px);
            var dst = x.AsSpan(k * px, px);
            for (var p = 0; p < px; p++) dst[p] = (float)((src[p] / 255.0 - mean) / std);
            y[k] = Labels[i];
        }
        return (Tensor.From<float>(x, [indices.Length, 1, Side, Side]), Tensor.From<long>(y, [indices.Length]));
    }
}

/// <summary>
/// Reader for Fashion-MNIST in its IDX format (gzip), as shipped by Debian's <c>dataset-fashion-mnist</c>
/// under /usr/share/datasets/fashion-mnist. Magic numbers, dimensions and counts are validated.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's package installs the files.</summary>
    public const string DefaultRoot = "/usr/share/datasets/fashion-mnist";

    private const int ImagesMagic = 0x00000803; // unsigned byte, 3 dimensions
    private const int LabelsMagic = 0x00000801; // unsigned byte, 1 dimension

    /// <summary>Loads the "train" (60,000) or "test" (10,000) split.</summary>
    public static FashionMnistSplit Load(string split, string? root = null)
    {
        root ??= Environment.GetEnvironmentVariable("FASHION_MNIST_ROOT") ?? DefaultRoot;
        var prefix = split switch
        {
            "train" => "train",
            "test" => "t10k",
            _ => throw new ArgumentException($"Fashion-MNIST split must be 'train' or 'test', not '{split}'", nameof(split)),
        };
        var imagesPath = Path.Combine(root, $"{prefix}-images-idx3-ubyte.gz");
        var labelsPath = Path.Combine(root, $"{prefix}-labels-idx1-ubyte.gz");
        foreach (var p in new[] { imagesPath, labelsPath })
            if (!File.Exists(p))
                throw new FileNotFoundException(
                    $"Fashion-MNIST file '{p}' is missing. Install Debian's package with `apt-get install dataset-fashion-mnist`, " +
                    "or set FASHION_MNIST_ROOT to a folder holding the four IDX .gz files.", p);

        var (images, n, rows, cols) = ReadIdx(imagesPath, ImagesMagic, 3);
        if (rows != FashionMnistSplit.Side || cols != FashionMnistSplit.Side)
            throw new InvalidDataException($"{imagesPath}: images are {rows}×{cols}, expected 28×28");
        var (labels, m, _, _) = ReadIdx(labelsPath, LabelsMagic, 1);
        if (n != m) throw new InvalidDataException($"{imagesPath} holds {n} images but {labelsPath} holds {m} labels");
        for (var i = 0; i < labels.Length; i++)
            if (labels[i] > 9) throw new InvalidDataException($"{labelsPath}: label {labels[i]} of sample {i} is outside 0–9");
        return new FashionMnistSplit(images, labels, n);
    }

    /// <summary>Reads a gzip IDX file of unsigned bytes: magic, big-endian dimensions, then the data.</summary>
    internal static (byte[] Data, int Count, int Rows, int Cols) ReadIdx(string path, int magic, int dims)
    {
        using var file = File.OpenRead(path);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var ms = new MemoryStream();
        try { gz.CopyTo(ms); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: not a valid gzip stream ({e.Message})", e); }
        var bytes = ms.GetBuffer().AsSpan(0, (int)ms.Length);
        var header = 4 + 4 * dims;
        if (bytes.Length < header) throw new InvalidDataException($"{path}: {bytes.Length} bytes is shorter than the {header}-byte IDX header");
        var got = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (got != magic) throw new InvalidDataException($"{path}: IDX magic 0x{got:x8}, expected 0x{magic:x8}");
        var sizes = new int[dims];
        long total = 1;
        for (var d = 0; d < dims; d++)
        {
            sizes[d] = BinaryPrimitives.ReadInt32BigEndian(bytes[(4 + 4 * d)..]);
            if (sizes[d] < 0) throw new InvalidDataException($"{path}: negative size {sizes[d]} in dimension {d}");
            total *= sizes[d];
        }
        if (bytes.Length - header != total)
            throw new InvalidDataException($"{path}: header promises {total} data bytes ({string.Join("×", sizes)}) but {bytes.Length - header} follow");
        return (bytes[header..].ToArray(), sizes[0], dims > 1 ? sizes[1] : 0, dims > 2 ? sizes[2] : 0);
    }
}
