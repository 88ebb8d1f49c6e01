namespace Reproduce.Vision.Tokens;

// Shared by the model (Models.Layers.MixToken cuts and applies the box) and the data side (Data.Mixing builds the
// targets from it), which must not depend on each other.

/// <summary>
/// The box MixToken cut from the token grid ("All Tokens Matter" §3.2): rows [<see cref="Top"/>,
/// <see cref="Bottom"/>) × columns [<see cref="Left"/>, <see cref="Right"/>) of a
/// <see cref="GridHeight"/>×<see cref="GridWidth"/> grid. Inside it, image i carries the tokens of image B−1−i
/// (the flipped batch). In TokenLabeling's names: (bbx1, bby1, bbx2, bby2) = (Top, Left, Bottom, Right),
/// bbx indexing the grid's rows (dimension 2 of [B, C, H, W]).
/// </summary>
/// <param name="Top">First row inside the box.</param>
/// <param name="Left">First column inside the box.</param>
/// <param name="Bottom">Row after the last one inside (exclusive).</param>
/// <param name="Right">Column after the last one inside (exclusive).</param>
/// <param name="GridHeight">Token rows of the grid.</param>
/// <param name="GridWidth">Token columns of the grid.</param>
/// <param name="SampledLambda">The λ ~ Beta(α, α) the box was cut for (1 for a box given by hand); the
/// box side is ⌊side·√(1−λ)⌋ before centring and clipping, so the box area is not (1−λ)·N in general.</param>
public sealed record MixTokenBox(int Top, int Left, int Bottom, int Right, int GridHeight, int GridWidth, double SampledLambda = 1.0)
{
    /// <summary>An empty box on a grid: mixing with it changes nothing.</summary>
    public static MixTokenBox Empty(int gridHeight, int gridWidth) => new(0, 0, 0, 0, gridHeight, gridWidth);

    /// <summary>Tokens in the box: (Bottom − Top)·(Right − Left).</summary>
    public int Area => (Bottom - Top) * (Right - Left);

    /// <summary>N, the number of patch tokens of the grid.</summary>
    public int NumTokens => GridHeight * GridWidth;

    /// <summary>True when the box holds no token.</summary>
    public bool IsEmpty => Area == 0;

    /// <summary>
    /// Weight of each image's own class target after MixToken: λ = 1 − box area / N (TokenLabeling's
    /// <c>TokenLabelCrossEntropy</c>: <c>lam = 1 - ((bbx2 - bbx1) * (bby2 - bby1) / N)</c>). The class-token
    /// target is λ·yᵢ + (1 − λ)·y_{B−1−i}; the per-token targets need no mixing, because the patch logits are
    /// swapped back to their own image.
    /// </summary>
    public double ClassTargetWeight => 1.0 - (double)Area / NumTokens;

    /// <summary>Whether grid cell (row, col) is inside the box.</summary>
    public bool Contains(int row, int col) => row >= Top && row < Bottom && col >= Left && col < Right;

    /// <summary>Throws <see cref="ArgumentException"/> unless the box lies within its grid with ordered corners.</summary>
    public void Validate()
    {
        if (GridHeight <= 0 || GridWidth <= 0 || Top < 0 || Left < 0 || Top > Bottom || Left > Right || Bottom > GridHeight || Right > GridWidth)
            throw new ArgumentException($"MixTokenBox: rows [{Top},{Bottom}) x columns [{Left},{Right}) is not a box inside the {GridHeight}x{GridWidth} token grid");
    }
}
