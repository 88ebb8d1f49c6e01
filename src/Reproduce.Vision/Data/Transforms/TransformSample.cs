using Reproduce.Torch;
using Reproduce.Vision.Data.TokenLabels;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// An image with the targets that must follow its geometry. Every geometric transform maps
/// <see cref="Image"/>, <see cref="Mask"/>, <see cref="Depth"/> and <see cref="TokenLabel"/>
/// together; photometric ones touch the image only. Transforms are pure: they return a new sample
/// whose tensors live in the caller's current scope.
/// </summary>
/// <param name="Image">[C,H,W], uint8 (0–255) or floating point (0–1 before normalisation).</param>
public sealed record TransformSample(Tensor Image)
{
    /// <summary>Ignore value of segmentation masks (mmseg / ADE20K after reduce_zero_label).</summary>
    public const int IgnoreIndex = 255;

    /// <summary>Image-level class label, −1 when there is none.</summary>
    public long Label { get; init; } = -1;

    /// <summary>Per-pixel class map [H,W] (integer dtype), resampled nearest, padded with <see cref="IgnoreIndex"/>.</summary>
    public Tensor? Mask { get; init; }

    /// <summary>Per-pixel depth [H,W] in metres (0 = invalid), resampled nearest, padded with 0.</summary>
    public Tensor? Depth { get; init; }

    /// <summary>The token-label score map and the view the augmentation selected.</summary>
    public TokenLabelMap? TokenLabel { get; init; }

    /// <summary>The last crop box in pixels of the image it was taken from (RandomResizedCrop's return value).</summary>
    public CropBox? Box { get; init; }

    /// <summary>Image height.</summary>
    public int Height => (int)Image.Size(-2);

    /// <summary>Image width.</summary>
    public int Width => (int)Image.Size(-1);

    /// <summary>Throws unless the dense targets have the image's height and width.</summary>
    public TransformSample Validate()
    {
        var (h, w) = Geometry.Size(Image);
        if (Image.Dim != 3) throw new ArgumentException($"TransformSample: image must be [C,H,W], got {Image.Describe()}");
        if (Mask is not null && (Mask.Dim != 2 || Mask.Size(0) != h || Mask.Size(1) != w))
            throw new ArgumentException($"TransformSample: mask {Mask.Describe()} does not match image {Image.Describe()}");
        if (Depth is not null && (Depth.Dim != 2 || Depth.Size(0) != h || Depth.Size(1) != w))
            throw new ArgumentException($"TransformSample: depth {Depth.Describe()} does not match image {Image.Describe()}");
        return this;
    }

    /// <summary>Applies <paramref name="image"/>, <paramref name="mask"/> and <paramref name="depth"/> to the image and to each dense map present (not to the token label).</summary>
    public TransformSample MapDense(Func<Tensor, Tensor> image, Func<Tensor, Tensor> mask, Func<Tensor, Tensor> depth) => this with
    {
        Image = image(Image),
        Mask = Mask is null ? null : mask(Mask),
        Depth = Depth is null ? null : depth(Depth),
    };

    /// <summary>Detaches every tensor from the current scope, so the sample outlives it (e.g. to hand it to another thread).</summary>
    public TransformSample DetachFromScope()
    {
        Image.DetachFromScope();
        Mask?.DetachFromScope();
        Depth?.DetachFromScope();
        TokenLabel?.DetachFromScope();
        return this;
    }

    /// <summary>The tensors this sample holds.</summary>
    public IEnumerable<Tensor> Tensors()
    {
        yield return Image;
        if (Mask is not null) yield return Mask;
        if (Depth is not null) yield return Depth;
        if (TokenLabel is not null)
        {
            yield return TokenLabel.Values;
            yield return TokenLabel.Indices;
        }
    }
}
