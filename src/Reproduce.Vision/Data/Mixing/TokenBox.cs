namespace Reproduce.Vision.Data.Mixing;

/// <summary>
/// A MixToken box on the GridH×GridW patch-token grid: rows [Y0, Y1), columns [X0, X1), already
/// clipped to the grid (possibly empty). Inside the box, sample i's tokens come from sample B−1−i.
/// The class-token weight of the sample's own label is λ = 1 − |box| / N with N = GridH·GridW
/// (TL-lvvit, papers.md §1.6).
/// </summary>
public readonly record struct TokenBox(int Y0, int Y1, int X0, int X1, int GridH, int GridW)
{
    /// <summary>Number of tokens inside the box.</summary>
    public int Area => Math.Max(0, Y1 - Y0) * Math.Max(0, X1 - X0);

    /// <summary>Number of patch tokens N.</summary>
    public int Tokens => GridH * GridW;

    /// <summary>λ = 1 − |box| / N: the weight of the sample's own label on the class token.</summary>
    public double Lambda => 1.0 - (double)Area / Tokens;

    /// <summary>True for token (row, col) inside the box.</summary>
    public bool Contains(int row, int col) => row >= Y0 && row < Y1 && col >= X0 && col < X1;

    /// <summary>Throws unless 0 ≤ Y0 ≤ Y1 ≤ GridH and 0 ≤ X0 ≤ X1 ≤ GridW.</summary>
    public TokenBox Validate()
    {
        if (GridH <= 0 || GridW <= 0 || Y0 < 0 || X0 < 0 || Y0 > Y1 || X0 > X1 || Y1 > GridH || X1 > GridW)
            throw new ArgumentException($"TokenBox: rows [{Y0},{Y1}) × cols [{X0},{X1}) is not a box inside the {GridH}×{GridW} token grid");
        return this;
    }

    /// <summary>
    /// Samples a box as LV-ViT does: λ ~ Beta(α, α) (α = 1), side = ⌊grid side · √(1 − λ)⌋, a uniform
    /// centre (c_y ∈ [0, GridH), c_x ∈ [0, GridW)), edges c ∓ ⌊side/2⌋ clipped to the grid. The box
    /// area after clipping defines <see cref="Lambda"/>.
    /// </summary>
    public static TokenBox Sample(int gridH, int gridW, Random rng, double alpha = 1.0)
    {
        var lam = rng.Beta(alpha, alpha);
        var (y0, y1, x0, x1) = CutMixBox.Centered(gridH, gridW, lam, rng);
        return new TokenBox(y0, y1, x0, x1, gridH, gridW);
    }

    /// <inheritdoc/>
    public override string ToString() => $"rows [{Y0},{Y1}) × cols [{X0},{X1}) of {GridH}×{GridW}, λ = {Lambda:0.####}";
}
