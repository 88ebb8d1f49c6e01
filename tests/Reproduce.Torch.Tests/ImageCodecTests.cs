using Reproduce.Torch.IO;

namespace Reproduce.Torch.Tests;

/// <summary>
/// JPEG/PNG codecs against reference files written by Debian's python3-pil (tests/fixtures/gen_codec.py),
/// which runs on the same libjpeg-turbo and libpng: decodes must match PIL's pixel for pixel.
/// </summary>
public sealed class ImageCodecTests : IDisposable
{
    private const int H = 45, W = 67;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "codec-" + Guid.NewGuid().ToString("N"));

    public ImageCodecTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "codec", name);

    /// <summary>The known pixels of gen_codec.py's known_rgb(), [H,W,3].</summary>
    private static byte[] KnownRgb()
    {
        var px = new byte[H * W * 3];
        for (var y = 0; y < H; y++)
            for (var x = 0; x < W; x++)
            {
                var checker = (x / 8 + y / 8) % 2 * 40;
                var i = (y * W + x) * 3;
                px[i] = (byte)Math.Min(255, 3 * x + y + checker);
                px[i + 1] = (byte)Math.Min(255, 2 * y + x);
                px[i + 2] = (byte)(255 - Math.Min(255, 2 * x + 2 * y));
            }
        return px;
    }

    /// <summary>gen_codec.py's known16(): 16-bit values with distinct high and low bytes.</summary>
    private static int[] Known16()
    {
        var v = new int[H * W];
        for (var y = 0; y < H; y++)
            for (var x = 0; x < W; x++)
                v[y * W + x] = (int)Math.Min(65535, (long)((y * W + x) * 21.7 + x % 3 * 257));
        return v;
    }

    private static Tensor KnownTensor() => Tensor.From<byte>(KnownRgb(), [H, W, 3]);

    private static (int MaxAbs, double MeanAbs) Diff(byte[] a, byte[] b)
    {
        Assert.Equal(a.Length, b.Length);
        var max = 0;
        var sum = 0L;
        for (var i = 0; i < a.Length; i++)
        {
            var d = Math.Abs(a[i] - b[i]);
            max = Math.Max(max, d);
            sum += d;
        }
        return (max, (double)sum / a.Length);
    }

    [Theory]
    [InlineData("pil_q90_420", ImageReadMode.Rgb, 3)]
    [InlineData("pil_q95_444", ImageReadMode.Rgb, 3)]
    [InlineData("pil_progressive", ImageReadMode.Rgb, 3)]
    [InlineData("pil_gray_q90", ImageReadMode.Unchanged, 1)]
    [InlineData("pil_cmyk", ImageReadMode.Rgb, 3)]
    public void PilJpegsDecodeToPilsPixels(string name, ImageReadMode mode, int channels)
    {
        using var scope = Scope.Enter();
        var ours = ImageCodec.DecodeFile(Fixture(name + ".jpg"), mode, ImageLayout.Hwc);
        var pil = ImageCodec.DecodeFile(Fixture(name + ".decoded.png"), ImageReadMode.Unchanged, ImageLayout.Hwc);
        Assert.Equal(new long[] { H, W, channels }, ours.Shape);
        Assert.Equal(ScalarType.UInt8, ours.DType);
        // Same libjpeg-turbo, same (default) islow IDCT and fancy upsampling: identical pixels.
        Assert.Equal(pil.ToArray<byte>(), ours.ToArray<byte>());
    }

    [Fact]
    public void DctDomainHalfScaleMatchesPilDraft()
    {
        using var scope = Scope.Enter();
        var ours = ImageCodec.DecodeFile(Fixture("pil_q90_420.jpg"), ImageReadMode.Rgb, ImageLayout.Hwc, minHeight: 23, minWidth: 34);
        var pil = ImageCodec.DecodeFile(Fixture("pil_q90_420.half.decoded.png"), ImageReadMode.Unchanged, ImageLayout.Hwc);
        Assert.Equal(new long[] { 23, 34, 3 }, ours.Shape);
        Assert.Equal(pil.ToArray<byte>(), ours.ToArray<byte>());
    }

    [Theory]
    [InlineData(0, 0, 45, 67)]      // no request: full size
    [InlineData(23, 34, 23, 34)]    // 4/8 exactly reaches the request
    [InlineData(24, 34, 29, 42)]    // 4/8 gives 23 rows < 24, so 5/8
    [InlineData(12, 17, 12, 17)]    // 2/8
    [InlineData(1, 1, 6, 9)]        // the smallest factor, 1/8
    [InlineData(100, 100, 45, 67)]  // larger than the image: never upscaled
    [InlineData(0, 40, 29, 42)]     // width only: 5/8 gives 42 ≥ 40 (4/8 gives 34)
    public void DownscalingPicksTheSmallestImageStillAtLeastTheRequest(int minH, int minW, int h, int w)
    {
        using var scope = Scope.Enter();
        var t = ImageCodec.DecodeFile(Fixture("pil_q95_444.jpg"), minHeight: minH, minWidth: minW);
        Assert.Equal(new long[] { 3, h, w }, t.Shape);
    }

    [Fact]
    public void OwnJpegEncodingDecodesWithinTheCodecsToleranceAndAsPilDecodesIt()
    {
        using var scope = Scope.Enter();
        var known = KnownRgb();
        var bytes = ImageCodec.EncodeJpeg(KnownTensor(), quality: 95, ChromaSubsampling.S444, ImageLayout.Hwc);
        var decoded = ImageCodec.DecodeJpeg(bytes, layout: ImageLayout.Hwc).ToArray<byte>();
        var (max, mean) = Diff(known, decoded);
        Assert.True(max <= 16 && mean <= 1.5, $"q95 4:4:4 round trip: max |Δ| {max}, mean |Δ| {mean:F3}");

        // libjpeg-turbo with PIL's settings (quality 90, 4:2:0, islow DCT, no optimisation) writes PIL's bytes.
        var ours = ImageCodec.EncodeJpeg(KnownTensor(), quality: 90, ChromaSubsampling.S420, ImageLayout.Hwc);
        Assert.Equal(File.ReadAllBytes(Fixture("pil_q90_420.jpg")), ours);
    }

    [Fact]
    public void GrayJpegRoundTripAndChwLayout()
    {
        using var scope = Scope.Enter();
        var gray = Tensor.From<byte>(KnownRgb().Where((_, i) => i % 3 == 1).ToArray(), [H, W]);
        var bytes = ImageCodec.EncodeJpeg(gray, quality: 100);
        Assert.Equal(new ImageInfo(ImageFormat.Jpeg, H, W, 1, 8), ImageCodec.ReadInfo(bytes));
        var chw = ImageCodec.DecodeJpeg(bytes, ImageReadMode.Unchanged);
        Assert.Equal(new long[] { 1, H, W }, chw.Shape);
        var (max, _) = Diff(gray.ToArray<byte>(), chw.ToArray<byte>());
        Assert.True(max <= 2, $"gray q100 round trip: max |Δ| {max}");
        var rgb = ImageCodec.DecodeJpeg(bytes, ImageReadMode.Rgb);
        Assert.Equal(new long[] { 3, H, W }, rgb.Shape);
        Assert.Equal(chw.ToArray<byte>(), rgb.Select(0, 2).ToArray<byte>());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Png8BitRoundTripIsExact(int channels)
    {
        using var scope = Scope.Enter();
        var rng = new Random(channels);
        var px = new byte[13 * 17 * channels];
        rng.NextBytes(px);
        var image = Tensor.From<byte>(px, [13, 17, channels]);
        var bytes = ImageCodec.EncodePng(image, layout: ImageLayout.Hwc);
        Assert.Equal(new ImageInfo(ImageFormat.Png, 13, 17, channels, 8), ImageCodec.ReadInfo(bytes));
        var back = ImageCodec.DecodePng(bytes, layout: ImageLayout.Hwc);
        Assert.Equal(ScalarType.UInt8, back.DType);
        Assert.Equal(new long[] { 13, 17, channels }, back.Shape);
        Assert.Equal(px, back.ToArray<byte>());
        // The same pixels in CHW order encode to the same file.
        Assert.Equal(bytes, ImageCodec.EncodePng(image.Permute(2, 0, 1)));
    }

    [Fact]
    public void Png16BitRoundTripIsExactAndBigEndianOnDisk()
    {
        using var scope = Scope.Enter();
        var values = new[] { 0, 1, 255, 256, 0x0102, 0x8000, 65534, 65535 };
        var image = Tensor.From<int>(values, [2, 4]);
        var bytes = ImageCodec.EncodePng(image);
        Assert.Equal(new ImageInfo(ImageFormat.Png, 2, 4, 1, 16), ImageCodec.ReadInfo(bytes));
        var back = ImageCodec.DecodePng(bytes, ImageReadMode.Unchanged, ImageLayout.Hwc);
        Assert.Equal(ScalarType.Int32, back.DType);
        Assert.Equal(new long[] { 2, 4, 1 }, back.Shape);
        Assert.Equal(values, back.ToArray<int>());
        // Long and short inputs give the same file; values outside 0..65535 are refused.
        Assert.Equal(bytes, ImageCodec.EncodePng(Tensor.From<long>(values.Select(v => (long)v).ToArray(), [2, 4])));
        var ex = Assert.Throws<ArgumentException>(() => ImageCodec.EncodePng(Tensor.From<int>([0, 65536], [1, 2])));
        Assert.Contains("65536", ex.Message);
    }

    [Fact]
    public void PilPngsDecodeExactly()
    {
        using var scope = Scope.Enter();
        Assert.Equal(KnownRgb(), ImageCodec.DecodeFile(Fixture("known.png"), layout: ImageLayout.Hwc).ToArray<byte>());
        var depth = ImageCodec.DecodeFile(Fixture("depth16.png"), ImageReadMode.Unchanged, ImageLayout.Hwc);
        Assert.Equal(new long[] { H, W, 1 }, depth.Shape);
        Assert.Equal(Known16(), depth.ToArray<int>());
        // 8-bit modes scale 16-bit samples down (libpng's rounding: v·255/65535).
        var depth8 = ImageCodec.DecodeFile(Fixture("depth16.png"), ImageReadMode.Gray, ImageLayout.Hwc).ToArray<byte>();
        Assert.Equal(Known16().Select(v => (byte)((v * 255L + 32767) / 65535)).ToArray(), depth8);

        // Palette with a transparent entry 0: RGBA when unchanged, alpha dropped in RGB mode.
        var pal = ImageCodec.DecodeFile(Fixture("palette_trns.png"), ImageReadMode.Unchanged, ImageLayout.Hwc);
        Assert.Equal(new long[] { 3, 5, 4 }, pal.Shape);
        var p = pal.ToArray<byte>();
        Assert.Equal(new byte[] { 0, 0, 0, 0, 255, 0, 0, 255 }, p[..8]);
        var palRgb = ImageCodec.DecodeFile(Fixture("palette_trns.png"), ImageReadMode.Rgb, ImageLayout.Hwc);
        Assert.Equal(new byte[] { 0, 0, 0, 255, 0, 0 }, palRgb.ToArray<byte>()[..6]);

        // 1-bit gray expands to 0/255.
        var g = ImageCodec.DecodeFile(Fixture("gray1.png"), ImageReadMode.Unchanged, ImageLayout.Hwc).ToArray<byte>();
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (byte)(i % 3 == 0 ? 255 : 0)).ToArray(), g);
        Assert.Equal(new ImageInfo(ImageFormat.Png, 3, 8, 1, 1), ImageCodec.ReadInfo(Fixture("gray1.png")));
    }

    [Fact]
    public void TruncatedAndCorruptFilesNameTheCauseAndThePath()
    {
        var jpeg = File.ReadAllBytes(Fixture("pil_q95_444.jpg"));
        var cut = Path.Combine(_dir, "cut.jpg");
        File.WriteAllBytes(cut, jpeg[..(jpeg.Length / 2)]);
        var ex = Assert.Throws<InvalidDataException>(() => ImageCodec.DecodeFile(cut));
        Assert.StartsWith(cut + ": truncated JPEG", ex.Message);
        // Header-only queries still succeed: the header is intact.
        Assert.Equal(new ImageInfo(ImageFormat.Jpeg, H, W, 3, 8), ImageCodec.ReadInfo(cut));

        var png = File.ReadAllBytes(Fixture("known.png"));
        ex = Assert.Throws<InvalidDataException>(() => ImageCodec.DecodePng(png.AsSpan(0, png.Length - 30)));
        Assert.StartsWith("truncated PNG", ex.Message);
        var flipped = png.ToArray();
        flipped[60] ^= 0x55; // inside the IDAT chunk: CRC mismatch
        ex = Assert.Throws<InvalidDataException>(() => ImageCodec.DecodePng(flipped));
        Assert.Contains("corrupt PNG", ex.Message);

        ex = Assert.Throws<InvalidDataException>(() => ImageCodec.Decode([1, 2, 3, 4, 5, 6, 7, 8, 9]));
        Assert.Contains("unknown image format", ex.Message);
        Assert.Throws<InvalidDataException>(() => ImageCodec.Decode([]));
        ex = Assert.Throws<InvalidDataException>(() => ImageCodec.DecodeJpeg(png));
        Assert.Contains("not a JPEG", ex.Message);
        var missing = Path.Combine(_dir, "missing.png");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => ImageCodec.DecodeFile(missing)).Message);
    }

    [Fact]
    public void StrictJpegDecodingRejectsWarningsThatPilTolerates()
    {
        using var scope = Scope.Enter();
        var jpeg = File.ReadAllBytes(Fixture("pil_q90_420.jpg"));
        Assert.Equal(new byte[] { 0xFF, 0xD9 }, jpeg[^2..]);
        // Garbage between the APP0 segment and the next marker: libjpeg warns "extraneous bytes before marker".
        Assert.Equal(new byte[] { 0xFF, 0xE0 }, jpeg[2..4]);
        var next = 4 + (jpeg[4] << 8 | jpeg[5]);
        var noisy = jpeg[..next].Concat(new byte[] { 0x12, 0x34, 0x56 }).Concat(jpeg[next..]).ToArray();
        var lenient = ImageCodec.DecodeJpeg(noisy, layout: ImageLayout.Hwc);
        Assert.Equal(ImageCodec.DecodeJpeg(jpeg, layout: ImageLayout.Hwc).ToArray<byte>(), lenient.ToArray<byte>());
        var ex = Assert.Throws<InvalidDataException>(() => ImageCodec.DecodeJpeg(noisy, strict: true));
        Assert.Contains("extraneous bytes", ex.Message);
    }

    [Fact]
    public void EncodersRefuseWhatTheFormatCannotHold()
    {
        using var scope = Scope.Enter();
        Assert.Throws<ArgumentException>(() => ImageCodec.EncodeJpeg(Torch.Zeros([4, 4, 3]), layout: ImageLayout.Hwc));
        Assert.Throws<ArgumentException>(() => ImageCodec.EncodeJpeg(Torch.Zeros([4, 4, 2], ScalarType.UInt8), layout: ImageLayout.Hwc));
        Assert.Throws<ArgumentException>(() => ImageCodec.EncodeJpeg(Torch.Zeros([4, 4, 3], ScalarType.UInt8), quality: 0, layout: ImageLayout.Hwc));
        Assert.Throws<ArgumentException>(() => ImageCodec.EncodePng(Torch.Zeros([4, 4, 5], ScalarType.UInt8), layout: ImageLayout.Hwc));
        Assert.Throws<ArgumentException>(() => ImageCodec.EncodePng(Torch.Zeros([4], ScalarType.UInt8)));
        Assert.Throws<ArgumentException>(() => ImageCodec.DecodeJpeg(File.ReadAllBytes(Fixture("pil_q90_420.jpg")), ImageReadMode.Rgba));
    }

    [Fact]
    public void SavesAreAtomicAndReadBack()
    {
        using var scope = Scope.Enter();
        var path = Path.Combine(_dir, "sub", "k.png");
        ImageCodec.SavePng(path, KnownTensor(), layout: ImageLayout.Hwc);
        Assert.Equal(KnownRgb(), ImageCodec.DecodeFile(path, layout: ImageLayout.Hwc).ToArray<byte>());
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!)); // no temporary left behind
        Assert.Throws<ArgumentException>(() => ImageCodec.SavePng(path, Torch.Zeros([2, 2, 3]), layout: ImageLayout.Hwc));
        Assert.Equal(KnownRgb(), ImageCodec.DecodeFile(path, layout: ImageLayout.Hwc).ToArray<byte>()); // untouched
    }
}
