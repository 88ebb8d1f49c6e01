using Reproduce.Torch;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Vision.Data.TokenLabels;

/// <summary>
/// One image's machine annotation for token labeling (TokenLabeling generate_label.py): at each cell of
/// an h×w grid over the whole image, the annotator's top-k raw scores (<see cref="Values"/>, float32
/// [k,h,w]) and their class indices (<see cref="Indices"/>, int64 [k,h,w]), plus the view the sample's
/// geometric augmentation selected. The view is a box in fractions of the map (<see cref="Top"/>,
/// <see cref="Left"/>, <see cref="Height"/>, <see cref="Width"/>) optionally mirrored
/// (<see cref="Flipped"/>): view position (u, v) ∈ [0,1]² shows map position
/// (Left + Width·(Flipped ? 1 − u : u), Top + Height·v). Crops and flips only update the view; the
/// scores are cropped and resized once, by <see cref="TokenLabelAligner"/>.
/// </summary>
public sealed record TokenLabelMap
{
    /// <summary>A map showing the whole image, unflipped.</summary>
    public TokenLabelMap(Tensor values, Tensor indices)
    {
        var vs = values.Shape;
        if (vs.Length != 3) throw new ArgumentException($"TokenLabelMap: values must be [k,h,w], got {values.Describe()}");
        if (!indices.Shape.SequenceEqual(vs)) throw new ArgumentException($"TokenLabelMap: indices {indices.Describe()} must match values {values.Describe()}");
        if (!values.DType.IsFloatingPoint()) throw new ArgumentException($"TokenLabelMap: values must be floating point, got {values.Describe()}");
        if (indices.DType.IsFloatingPoint() || indices.DType == ScalarType.Bool) throw new ArgumentException($"TokenLabelMap: indices must be integers, got {indices.Describe()}");
        Values = values;
        Indices = indices;
    }

    /// <summary>Raw (pre-softmax) top-k scores, [k,h,w].</summary>
    public Tensor Values { get; init; }

    /// <summary>Class index of each score, [k,h,w].</summary>
    public Tensor Indices { get; init; }

    /// <summary>Top of the view, as a fraction of the map height.</summary>
    public double Top { get; init; }
    /// <summary>Left of the view, as a fraction of the map width.</summary>
    public double Left { get; init; }
    /// <summary>Height of the view, as a fraction of the map height.</summary>
    public double Height { get; init; } = 1;
    /// <summary>Width of the view, as a fraction of the map width.</summary>
    public double Width { get; init; } = 1;
    /// <summary>True when the view is mirrored horizontally.</summary>
    public bool Flipped { get; init; }

    /// <summary>Number of scores per cell.</summary>
    public int TopK => (int)Values.Size(0);
    /// <summary>Grid rows.</summary>
    public int GridHeight => (int)Values.Size(1);
    /// <summary>Grid columns.</summary>
    public int GridWidth => (int)Values.Size(2);

    /// <summary>True while the view is the whole, unflipped map.</summary>
    public bool IsFullView => Top == 0 && Left == 0 && Height == 1 && Width == 1 && !Flipped;

    /// <summary>The view after mirroring the current image horizontally.</summary>
    public TokenLabelMap HFlip() => this with { Flipped = !Flipped };

    /// <summary>
    /// The view after cropping <paramref name="box"/> out of the current image (box in pixels of an
    /// image of box.ImageHeight × box.ImageWidth, whatever its resolution relative to the map).
    /// </summary>
    public TokenLabelMap Crop(CropBox box)
    {
        box.Validate("TokenLabelMap.Crop");
        var l2 = Flipped ? 1 - box.LeftFraction - box.WidthFraction : box.LeftFraction;
        return this with
        {
            Top = Top + Height * box.TopFraction,
            Left = Left + Width * l2,
            Height = Height * box.HeightFraction,
            Width = Width * box.WidthFraction,
        };
    }

    /// <summary>
    /// Applies an image-space affine map (RandAugment's Rotate, ShearX/Y, TranslateXRel/YRel) to the
    /// scores, as TokenLabeling's random_augment_label does: nearest-neighbour resampling, scores 0 and
    /// indices of the nearest edge cell outside the map. The matrix is given for an
    /// <paramref name="imageHeight"/>×<paramref name="imageWidth"/> image and rescaled to the grid.
    /// Only possible before any crop (the TokenLabeling order: flip, RandAugment, crop); a pending
    /// flip is applied to the scores first. Difference: TokenLabeling warps the map with
    /// scipy.ndimage in index coordinates (cell centres at integers, rotation about (H/2, W/2) there),
    /// half a cell off the image's own coordinates; we warp in the image's continuous coordinates, so
    /// the map stays aligned with the image (see TokenLabelAlignmentTests).
    /// </summary>
    public TokenLabelMap Warp(AffineMatrix imageMatrix, int imageHeight, int imageWidth)
    {
        if (Top != 0 || Left != 0 || Height != 1 || Width != 1)
            throw new InvalidOperationException(
                "TokenLabelMap.Warp: spatial ops after a crop cannot be applied to token-label maps; " +
                "use the TokenLabeling order (flip, RandAugment, RandomResizedCrop) for samples with token labels");
        using var s = Scope.Enter();
        var values = Flipped ? Values.Flip(-1) : Values;
        var indices = Flipped ? Indices.Flip(-1) : Indices;
        var m = imageMatrix.Rescaled((double)GridWidth / imageWidth, (double)GridHeight / imageHeight);
        var wv = AffineWarp.Apply(values.To(ScalarType.Float32), m, InterpolationMode.Nearest, [0.0]);
        var wi = AffineWarp.Apply(indices.To(ScalarType.Float32), m, InterpolationMode.Nearest, padding: WarpPadding.Border);
        return new TokenLabelMap(s.MoveOut(wv.To(Values.DType)), s.MoveOut(wi.Round().To(ScalarType.Int64)));
    }

    /// <summary>
    /// The dense score map [C,h,w]: each top-k score scattered to its class, 0 elsewhere (TokenLabeling's
    /// get_featuremaps).
    /// </summary>
    public Tensor Dense(int numClasses)
    {
        using var s = Scope.Enter();
        var idx = Indices.Long();
        var max = idx.Max().ToInt64();
        var min = idx.Min().ToInt64();
        if (min < 0 || max >= numClasses)
            throw new ArgumentException($"TokenLabelMap.Dense: class indices span {min}..{max}, outside 0..{numClasses - 1}");
        var dense = Torch.Torch.Zeros([numClasses, GridHeight, GridWidth], ScalarType.Float32, Values.Device);
        return s.MoveOut(dense.Scatter(0, idx, Values.To(ScalarType.Float32)));
    }

    /// <summary>Detaches both tensors from the current scope (for handing a map to another thread).</summary>
    public TokenLabelMap DetachFromScope()
    {
        Values.DetachFromScope();
        Indices.DetachFromScope();
        return this;
    }
}
