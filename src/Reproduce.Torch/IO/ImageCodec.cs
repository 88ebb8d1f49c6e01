using Reproduce.Torch.Native;

namespace Reproduce.Torch.IO;

/// <summary>
/// JPEG and PNG decoding and encoding in the native layer (libjpeg-turbo's TurboJPEG API and libpng, as
/// torchvision.io does). Decoders return CPU tensors: uint8 for 8-bit images, int32 for 16-bit PNG
/// samples (0..65535; libtorch 1.13 has no uint16). Corrupt or truncated data throws
/// <see cref="InvalidDataException"/> naming the cause, and the file path for the file overloads.
/// </summary>
/// <remarks>
/// It lives in the core beside the other file formats because it is a native-layer feature: the P/Invoke
/// surface and the tensor-handle constructor are internal to Reproduce.Torch.
/// </remarks>
public static class ImageCodec
{
    private static readonly Lazy<bool> Available = new(() => NativeMethods.rn_built_with_codecs() != 0);

    /// <summary>True when the native library was built with libjpeg-turbo and libpng.</summary>
    public static bool IsAvailable => Available.Value;

    /// <summary>The format from the file signature, or null when it is neither JPEG nor PNG.</summary>
    public static ImageFormat? Sniff(ReadOnlySpan<byte> data) =>
        data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF ? ImageFormat.Jpeg
        : data.Length >= 8 && data[..8].SequenceEqual(PngSignature) ? ImageFormat.Png
        : null;

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    // ---- header ---------------------------------------------------------------------------------

    /// <summary>Format, size, channels and bit depth from the header, without decoding pixels.</summary>
    public static unsafe ImageInfo ReadInfo(ReadOnlySpan<byte> data)
    {
        EnsureAvailable();
        int status, format, h, w, c, bits;
        fixed (byte* p = data)
            status = NativeMethods.rn_image_info(p, data.Length, out format, out h, out w, out c, out bits);
        if (status != NativeMethods.Ok) throw new InvalidDataException(NativeMethods.LastError());
        return new ImageInfo((ImageFormat)format, h, w, c, bits);
    }

    /// <summary><see cref="ReadInfo(ReadOnlySpan{byte})"/> of a file; errors name the path.</summary>
    public static ImageInfo ReadInfo(string path) => WithPath(path, () => ReadInfo(File.ReadAllBytes(path)));

    // ---- decoding --------------------------------------------------------------------------------

    /// <summary>
    /// Decodes a JPEG or PNG (recognised by its signature). <paramref name="minHeight"/> and
    /// <paramref name="minWidth"/> (JPEG only; 0 = full size) let libjpeg-turbo scale down in the DCT
    /// domain by the factor from <c>tjGetScalingFactors</c> (never above 1) that gives the smallest
    /// image still at least that large: ask for (s, s) before a shorter-side resize to s.
    /// </summary>
    public static Tensor Decode(ReadOnlySpan<byte> data, ImageReadMode mode = ImageReadMode.Rgb, ImageLayout layout = ImageLayout.Chw,
        int minHeight = 0, int minWidth = 0) => Sniff(data) switch
        {
            ImageFormat.Jpeg => DecodeJpeg(data, mode, layout, minHeight, minWidth),
            ImageFormat.Png => DecodePng(data, mode, layout),
            _ => throw new InvalidDataException(
                data.Length == 0 ? "empty image data (0 bytes)" : "unknown image format (neither a JPEG nor a PNG signature)"),
        };

    /// <summary><see cref="Decode(ReadOnlySpan{byte}, ImageReadMode, ImageLayout, int, int)"/> of a file; errors name the path.</summary>
    public static Tensor DecodeFile(string path, ImageReadMode mode = ImageReadMode.Rgb, ImageLayout layout = ImageLayout.Chw,
        int minHeight = 0, int minWidth = 0) =>
        WithPath(path, () => Decode(File.ReadAllBytes(path), mode, layout, minHeight, minWidth));

    /// <summary>
    /// Decodes a JPEG to uint8 RGB (<see cref="ImageReadMode.Rgb"/>), gray, or as stored
    /// (<see cref="ImageReadMode.Unchanged"/>: gray files give 1 channel, others 3; CMYK is converted to
    /// RGB as PIL does). A truncated file is always an error; other libjpeg warnings (e.g. extraneous bytes
    /// before a marker) are errors only when <paramref name="strict"/>, as PIL tolerates them.
    /// </summary>
    public static unsafe Tensor DecodeJpeg(ReadOnlySpan<byte> data, ImageReadMode mode = ImageReadMode.Rgb, ImageLayout layout = ImageLayout.Chw,
        int minHeight = 0, int minWidth = 0, bool strict = false)
    {
        EnsureAvailable();
        var channels = mode switch
        {
            ImageReadMode.Unchanged => 0,
            ImageReadMode.Gray => 1,
            ImageReadMode.Rgb => 3,
            _ => throw new ArgumentException($"JPEG decode: mode {mode} is not available for JPEG (it has no alpha); use Rgb", nameof(mode)),
        };
        if (minHeight < 0 || minWidth < 0) throw new ArgumentOutOfRangeException(nameof(minHeight), $"minimum size {minHeight}×{minWidth} is negative");
        int status;
        IntPtr h;
        fixed (byte* p = data)
            status = NativeMethods.rn_jpeg_decode(p, data.Length, channels, minHeight, minWidth, (int)layout, strict ? 1 : 0, out h);
        if (status != NativeMethods.Ok) throw new InvalidDataException(NativeMethods.LastError());
        return new Tensor(h, "ImageCodec.DecodeJpeg");
    }

    /// <summary>
    /// Decodes a PNG: <see cref="ImageReadMode.Unchanged"/> keeps the stored channels and bit depth
    /// (16-bit samples as int32, big-endian order handled); the other modes give 8-bit gray/RGB/RGBA.
    /// </summary>
    public static unsafe Tensor DecodePng(ReadOnlySpan<byte> data, ImageReadMode mode = ImageReadMode.Unchanged, ImageLayout layout = ImageLayout.Chw)
    {
        EnsureAvailable();
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown image read mode");
        int status;
        IntPtr h;
        fixed (byte* p = data)
            status = NativeMethods.rn_png_decode(p, data.Length, (int)mode, (int)layout, out h);
        if (status != NativeMethods.Ok) throw new InvalidDataException(NativeMethods.LastError());
        return new Tensor(h, "ImageCodec.DecodePng");
    }

    // ---- encoding --------------------------------------------------------------------------------

    /// <summary>
    /// Encodes uint8 pixels (<c>[H,W,C]</c> or <c>[C,H,W]</c> per <paramref name="layout"/>, C = 1 or 3;
    /// a 2-d tensor is one gray channel) as a baseline JPEG with libjpeg-turbo's accurate DCT.
    /// </summary>
    public static byte[] EncodeJpeg(Tensor image, int quality = 95, ChromaSubsampling subsampling = ChromaSubsampling.S420, ImageLayout layout = ImageLayout.Chw)
    {
        EnsureAvailable();
        using var scope = Scope.Enter();
        var hwc = ToHwc(image, layout);
        if (NativeMethods.rn_jpeg_encode(hwc.Handle, quality, (int)subsampling, out var h) != NativeMethods.Ok)
            throw new ArgumentException(NativeMethods.LastError(), nameof(image));
        return new Tensor(h, "ImageCodec.EncodeJpeg").ToBytes();
    }

    /// <summary>
    /// Encodes a PNG losslessly: uint8 gives 8-bit samples; int16/int32/int64 give 16-bit samples (each in
    /// 0..65535, e.g. depth maps). C = 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA); a 2-d tensor is one
    /// gray channel. <paramref name="level"/> is zlib's 0..9. The output depends only on the pixels and
    /// the level, so equal inputs give byte-identical files.
    /// </summary>
    public static byte[] EncodePng(Tensor image, int level = 6, ImageLayout layout = ImageLayout.Chw)
    {
        EnsureAvailable();
        using var scope = Scope.Enter();
        var hwc = ToHwc(image, layout);
        if (NativeMethods.rn_png_encode(hwc.Handle, level, out var h) != NativeMethods.Ok)
            throw new ArgumentException(NativeMethods.LastError(), nameof(image));
        return new Tensor(h, "ImageCodec.EncodePng").ToBytes();
    }

    /// <summary>Encodes with <see cref="EncodeJpeg"/> and writes <paramref name="path"/> atomically.</summary>
    public static void SaveJpeg(string path, Tensor image, int quality = 95, ChromaSubsampling subsampling = ChromaSubsampling.S420, ImageLayout layout = ImageLayout.Chw) =>
        AtomicFile.WriteAllBytes(path, EncodeJpeg(image, quality, subsampling, layout));

    /// <summary>Encodes with <see cref="EncodePng"/> and writes <paramref name="path"/> atomically.</summary>
    public static void SavePng(string path, Tensor image, int level = 6, ImageLayout layout = ImageLayout.Chw) =>
        AtomicFile.WriteAllBytes(path, EncodePng(image, level, layout));

    // ---- helpers ---------------------------------------------------------------------------------

    private static Tensor ToHwc(Tensor image, ImageLayout layout) => image.Dim switch
    {
        2 => image.Unsqueeze(-1),
        3 => layout == ImageLayout.Chw ? image.Permute(1, 2, 0) : image,
        _ => throw new ArgumentException($"image encode: expected a [H,W] or 3-d image tensor, got {image.Describe()}", nameof(image)),
    };

    private static void EnsureAvailable()
    {
        NativeMethods.EnsureLoaded();
        if (!IsAvailable)
            throw new NotSupportedException(
                "libreproduce_native.so was built without JPEG/PNG codecs; install Debian's libturbojpeg0-dev and libpng-dev " +
                "and rebuild it with `dotnet fsi build.fsx native`");
    }

    private static T WithPath<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"{path}: file not found", path, e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new FileNotFoundException($"{path}: file not found (its directory does not exist)", path, e);
        }
    }
}
