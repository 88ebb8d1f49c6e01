namespace Reproduce.Torch.IO;

/// <summary>Image file formats the native codecs read and write.</summary>
public enum ImageFormat
{
    /// <summary>JPEG (JFIF/EXIF), through libjpeg-turbo.</summary>
    Jpeg = 1,
    /// <summary>PNG, through libpng.</summary>
    Png = 2,
}

/// <summary>What a decoder returns, as torchvision's <c>ImageReadMode</c>.</summary>
public enum ImageReadMode
{
    /// <summary>
    /// The stored channels: JPEG gray → 1, colour/CMYK → 3 (RGB); PNG gray, gray+alpha, RGB, RGBA as
    /// stored, palette expanded to RGB (RGBA with a transparency chunk), gray below 8 bits expanded to
    /// 8. PNG 16-bit samples stay 16-bit and come back as int32 (0..65535); everything else is uint8.
    /// </summary>
    Unchanged = 0,
    /// <summary>8-bit gray (1 channel). PNG colour is converted with libpng's sRGB luma weights.</summary>
    Gray = 1,
    /// <summary>8-bit RGB (3 channels); alpha is dropped.</summary>
    Rgb = 2,
    /// <summary>8-bit RGBA (4 channels; PNG only); opaque alpha is added where none is stored.</summary>
    Rgba = 3,
}

/// <summary>Dimension order of decoded images and of images given to encoders.</summary>
public enum ImageLayout
{
    /// <summary>[height, width, channels], as stored in files.</summary>
    Hwc = 0,
    /// <summary>[channels, height, width], as models take them.</summary>
    Chw = 1,
}

/// <summary>JPEG chroma subsampling for encoding colour images (gray images have no chroma).</summary>
public enum ChromaSubsampling
{
    /// <summary>No subsampling.</summary>
    S444 = 444,
    /// <summary>Half horizontal chroma resolution.</summary>
    S422 = 422,
    /// <summary>Half horizontal and vertical chroma resolution (libjpeg's and PIL's default).</summary>
    S420 = 420,
}

/// <summary>Header facts of an image file, read without decoding pixels.</summary>
/// <param name="Format">JPEG or PNG.</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
/// <param name="Channels">Stored channels: JPEG 1 (gray), 3 (colour) or 4 (CMYK/YCCK); PNG 1 to 4 (palette counts as 3).</param>
/// <param name="BitDepth">Bits per sample: 8 for JPEG; 1, 2, 4, 8 or 16 for PNG.</param>
public readonly record struct ImageInfo(ImageFormat Format, int Height, int Width, int Channels, int BitDepth);
