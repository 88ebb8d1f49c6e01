namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// A crop rectangle in pixels of a source image of <see cref="ImageHeight"/>×<see cref="ImageWidth"/>,
/// as RandomResizedCrop returns it (torchvision's (i, j, h, w) = (top, left, height, width)).
/// The fractional view (top/H, left/W, height/H, width/W) is what TokenLabeling appends to its label
/// tensor so the score map can be cropped later with RoIAlign.
/// </summary>
public readonly record struct CropBox(int Top, int Left, int Height, int Width, int ImageHeight, int ImageWidth)
{
    /// <summary>The whole image.</summary>
    public static CropBox Full(int imageHeight, int imageWidth) => new(0, 0, imageHeight, imageWidth, imageHeight, imageWidth);

    /// <summary>Top edge as a fraction of the image height.</summary>
    public double TopFraction => (double)Top / ImageHeight;
    /// <summary>Left edge as a fraction of the image width.</summary>
    public double LeftFraction => (double)Left / ImageWidth;
    /// <summary>Height as a fraction of the image height.</summary>
    public double HeightFraction => (double)Height / ImageHeight;
    /// <summary>Width as a fraction of the image width.</summary>
    public double WidthFraction => (double)Width / ImageWidth;

    /// <summary>Throws unless the box lies inside the image and is non-empty.</summary>
    public void Validate(string what)
    {
        if (Height <= 0 || Width <= 0 || Top < 0 || Left < 0 || Top + Height > ImageHeight || Left + Width > ImageWidth)
            throw new ArgumentException($"{what}: crop box (top {Top}, left {Left}, height {Height}, width {Width}) is empty or outside the {ImageHeight}×{ImageWidth} image");
    }

    /// <summary>The same box after a horizontal flip of the source image.</summary>
    public CropBox FlippedHorizontally() => this with { Left = ImageWidth - Left - Width };

    /// <inheritdoc/>
    public override string ToString() => $"(top {Top}, left {Left}, {Height}×{Width} of {ImageHeight}×{ImageWidth})";
}
