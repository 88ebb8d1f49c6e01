using Reproduce.Torch;
using Reproduce.Vision.Tokens;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// MixToken ("All Tokens Matter: Token Labeling for Training Better Vision Transformers", Jiang et al.,
/// NeurIPS 2021, §3.2): CutMix on the token grid after the patch embedding, so that no patch mixes two
/// images. As TokenLabeling's <c>LV_ViT.forward</c> does it: λ ~ Beta(α, α) (α = 1), a box of side
/// ⌊side·√(1−λ)⌋ around a uniformly drawn centre, clipped at the borders (<see cref="RandBbox"/>); inside
/// the box image i takes the tokens of image B−1−i (<see cref="Mix"/>, T̂ = T₁⊙M + T₂⊙(1−M) of the paper);
/// after the transformer the patch logits inside the box are swapped back (<see cref="SwapBack"/>), so each
/// is scored against its own image's token label; the class target is mixed by area with
/// <see cref="MixTokenBox.ClassTargetWeight"/>. Every training forward draws a box (no probability gate).
/// Randomness comes from a torch <see cref="Generator"/> (the default CPU generator unless one is given),
/// so <see cref="Torch.Torch.ManualSeed"/> makes it reproducible.
/// </summary>
public sealed class MixToken
{
    /// <summary>α = β of the Beta distribution of λ (TokenLabeling: 1, i.e. λ uniform on [0, 1]).</summary>
    public double Beta { get; }

    /// <summary>The generator draws come from; null: the default CPU generator.</summary>
    public Generator? Generator { get; }

    /// <summary>Creates the sampler.</summary>
    public MixToken(double beta = 1.0, Generator? generator = null)
    {
        if (!(beta > 0)) throw new ArgumentException($"MixToken: beta {beta} must be positive");
        Beta = beta;
        Generator = generator;
    }

    /// <summary>
    /// Draws λ ~ Beta(α, α), then the box centre (row uniform in [0, H), then column uniform in [0, W)),
    /// in TokenLabeling's order, and returns <see cref="RandBbox"/> of them.
    /// </summary>
    public MixTokenBox Sample(int gridHeight, int gridWidth)
    {
        if (gridHeight <= 0 || gridWidth <= 0) throw new ArgumentException($"MixToken.Sample: bad token grid {gridHeight}x{gridWidth}");
        using var s = Scope.Enter();
        var lambda = Torch.Torch.Beta(Beta, Beta, [1], Generator, ScalarType.Float64).ToDouble();
        var row = (int)Torch.Torch.Randint(0, gridHeight, [1], Generator).ToInt64();
        var col = (int)Torch.Torch.Randint(0, gridWidth, [1], Generator).ToInt64();
        return RandBbox(gridHeight, gridWidth, lambda, row, col);
    }

    /// <summary>
    /// TokenLabeling's <c>rand_bbox</c> on a <paramref name="gridHeight"/>×<paramref name="gridWidth"/> grid:
    /// cut ratio r = √(1 − λ), sides h = ⌊H·r⌋ and w = ⌊W·r⌋, box rows [clip(cr − ⌊h/2⌋), clip(cr + ⌊h/2⌋)) and
    /// columns [clip(cc − ⌊w/2⌋), clip(cc + ⌊w/2⌋)) with clip to [0, side]. λ = 1 gives an empty box.
    /// </summary>
    public static MixTokenBox RandBbox(int gridHeight, int gridWidth, double lambda, int centreRow, int centreCol)
    {
        if (!(lambda >= 0 && lambda <= 1)) throw new ArgumentException($"MixToken.RandBbox: lambda {lambda} is outside [0, 1]");
        var cutRatio = Math.Sqrt(1.0 - lambda);
        var cutH = (int)(gridHeight * cutRatio);
        var cutW = (int)(gridWidth * cutRatio);
        var box = new MixTokenBox(
            Math.Clamp(centreRow - cutH / 2, 0, gridHeight),
            Math.Clamp(centreCol - cutW / 2, 0, gridWidth),
            Math.Clamp(centreRow + cutH / 2, 0, gridHeight),
            Math.Clamp(centreCol + cutW / 2, 0, gridWidth),
            gridHeight, gridWidth, lambda);
        return box;
    }

    /// <summary>
    /// Replaces the tokens inside <paramref name="box"/> of each image i by those of image B−1−i:
    /// <paramref name="grid"/> is [B, C, H, W] (the patch embedding before flattening). Differentiable.
    /// </summary>
    public static Tensor Mix(Tensor grid, MixTokenBox box) => SwapInBox(grid, box, rowDim: 2, "MixToken.Mix", "[B,C,H,W]");

    /// <summary>
    /// Undoes the spatial mix on per-token outputs: <paramref name="tokens"/> is [B, N, K] with N = H·W in
    /// row-major grid order; inside the box, image i takes the rows of image B−1−i again, so position
    /// (i, r, c) holds the output computed from image i's own patch (r, c). Differentiable.
    /// </summary>
    public static Tensor SwapBack(Tensor tokens, MixTokenBox box)
    {
        var shape = tokens.Shape;
        if (shape.Length != 3 || shape[1] != box.NumTokens)
            throw new ArgumentException($"MixToken.SwapBack: expected [B,{box.NumTokens},K] patch outputs for a {box.GridHeight}x{box.GridWidth} grid, got {tokens.Describe()}");
        using var s = Scope.Enter();
        var grid = tokens.Reshape(shape[0], box.GridHeight, box.GridWidth, shape[2]);
        var swapped = SwapInBox(grid, box, rowDim: 1, "MixToken.SwapBack", "[B,H,W,K]");
        return s.MoveOut(swapped.Reshape(shape));
    }

    private static Tensor SwapInBox(Tensor x, MixTokenBox box, int rowDim, string what, string layout)
    {
        box.Validate();
        var shape = x.Shape;
        if (shape.Length != 4 || shape[rowDim] != box.GridHeight || shape[rowDim + 1] != box.GridWidth)
            throw new ArgumentException($"{what}: expected {layout} with a {box.GridHeight}x{box.GridWidth} grid, got {x.Describe()}");
        if (box.IsEmpty) return x.Alias();
        using var s = Scope.Enter();
        var device = x.Device;
        var rows = Torch.Torch.Arange(box.GridHeight, device);
        var cols = Torch.Torch.Arange(box.GridWidth, device);
        var inRows = rows.Ge(box.Top).LogicalAnd(rows.Lt(box.Bottom)).Unsqueeze(1);
        var inCols = cols.Ge(box.Left).LogicalAnd(cols.Lt(box.Right)).Unsqueeze(0);
        var mask = inRows.LogicalAnd(inCols);
        for (var d = rowDim + 2; d < shape.Length; d++) mask = mask.Unsqueeze(-1);
        return s.MoveOut(Tensor.Where(mask, x.Flip(0), x));
    }
}
