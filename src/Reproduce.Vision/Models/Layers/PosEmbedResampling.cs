using Reproduce.Torch;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// Resizing a learned absolute position embedding to another token grid (timm's
/// <c>resample_abs_pos_embed</c>; ViT, Dosovitskiy et al. 2021, §3.2 "Fine-tuning and higher resolution":
/// "2D interpolation of the pre-trained position embeddings").
/// </summary>
public static class PosEmbedResampling
{
    /// <summary>
    /// Resamples <paramref name="posEmbed"/> [1, prefix + H₀·W₀, D] to [1, prefix + H·W, D] exactly as timm does:
    /// unchanged when the token count already matches and the new grid is square; otherwise the first
    /// <paramref name="numPrefixTokens"/> rows (class token) are kept as they are, the rest is read as an
    /// H₀×W₀ grid (square √(rows) when <paramref name="oldSize"/> is null), interpolated in float32 to H×W
    /// (bicubic with antialiasing by default, as timm; TokenLabeling's own <c>resize_pos_embed</c> used bicubic
    /// without antialiasing) and converted back to the input dtype.
    /// </summary>
    /// <param name="posEmbed">The embedding, [1, rows, D].</param>
    /// <param name="newSize">Target grid (rows, columns).</param>
    /// <param name="oldSize">Source grid; null: square from the row count.</param>
    /// <param name="numPrefixTokens">Leading rows that are not on the grid (0 or 1 for a ViT).</param>
    /// <param name="mode">Interpolation (timm: bicubic).</param>
    /// <param name="antialias">Antialiased interpolation (timm: true).</param>
    public static Tensor ResampleAbsPosEmbed(Tensor posEmbed, (int H, int W) newSize, (int H, int W)? oldSize = null,
        int numPrefixTokens = 1, InterpolationMode mode = InterpolationMode.Bicubic, bool antialias = true)
    {
        var shape = posEmbed.Shape;
        if (shape.Length != 3 || shape[0] != 1)
            throw new ArgumentException($"ResampleAbsPosEmbed: pos_embed must be [1, tokens, D], got {posEmbed.Describe()}");
        if (newSize.H <= 0 || newSize.W <= 0 || numPrefixTokens < 0)
            throw new ArgumentException($"ResampleAbsPosEmbed: bad target grid {newSize.H}x{newSize.W} or prefix count {numPrefixTokens}");
        var numPosTokens = shape[1];
        var numNew = (long)newSize.H * newSize.W + numPrefixTokens;
        if (numNew == numPosTokens && newSize.H == newSize.W) return posEmbed.Alias();

        var gridRows = numPosTokens - numPrefixTokens;
        var old = oldSize ?? ((int)Math.Sqrt(gridRows), (int)Math.Sqrt(gridRows));
        if ((long)old.H * old.W != gridRows)
            throw new ArgumentException($"ResampleAbsPosEmbed: pos_embed {posEmbed.Describe()} with {numPrefixTokens} prefix rows is not a {old.H}x{old.W} grid");

        using var s = Scope.Enter();
        var d = shape[2];
        var dtype = posEmbed.DType;
        var grid = numPrefixTokens > 0 ? posEmbed.Slice(1, numPrefixTokens, null) : posEmbed;
        var x = grid.Float().Reshape(1, old.H, old.W, d).Permute(0, 3, 1, 2);
        x = F.Interpolate(x, size: [newSize.H, newSize.W], mode: mode, antialias: antialias);
        x = x.Permute(0, 2, 3, 1).Reshape(1, -1, d).To(dtype);
        if (numPrefixTokens > 0) x = Tensor.Cat([posEmbed.Slice(1, 0, numPrefixTokens), x], 1);
        return s.MoveOut(x);
    }

    /// <summary>
    /// dinov2's resampling (<c>DinoVisionTransformer.interpolate_pos_encoding</c> with an <c>interpolate_offset</c>):
    /// unchanged when the token count already matches and the grid is square; otherwise the prefix rows are kept and
    /// the square M×M grid is interpolated in float32, bicubic without antialiasing, with the scale factors
    /// s = (side + <paramref name="offset"/>) / M given to the kernel (so the sampling positions are (i + ½)/s − ½, not
    /// those of the output size; the output side is ⌊M·s⌋ = side for offsets below 1), and converted back to the
    /// input dtype.
    /// </summary>
    public static Tensor ResampleWithOffset(Tensor posEmbed, (int H, int W) newSize, double offset, int numPrefixTokens = 1)
    {
        var shape = posEmbed.Shape;
        if (shape.Length != 3 || shape[0] != 1)
            throw new ArgumentException($"ResampleWithOffset: pos_embed must be [1, tokens, D], got {posEmbed.Describe()}");
        if (newSize.H <= 0 || newSize.W <= 0 || numPrefixTokens < 0 || offset is < 0 or >= 1)
            throw new ArgumentException($"ResampleWithOffset: bad target grid {newSize.H}x{newSize.W}, prefix count {numPrefixTokens} or offset {offset} (must lie in [0, 1))");
        var gridRows = shape[1] - numPrefixTokens;
        var m = (int)Math.Sqrt(gridRows);
        if ((long)m * m != gridRows)
            throw new ArgumentException($"ResampleWithOffset: pos_embed {posEmbed.Describe()} with {numPrefixTokens} prefix rows is not a square grid");
        if (gridRows == (long)newSize.H * newSize.W && newSize.H == newSize.W) return posEmbed.Alias();

        using var s = Scope.Enter();
        var d = shape[2];
        var grid = numPrefixTokens > 0 ? posEmbed.Slice(1, numPrefixTokens, null) : posEmbed;
        var x = grid.Float().Reshape(1, m, m, d).Permute(0, 3, 1, 2);
        x = F.Interpolate(x, scale: [(newSize.H + offset) / m, (newSize.W + offset) / m], mode: InterpolationMode.Bicubic, antialias: false);
        if (x.Size(2) != newSize.H || x.Size(3) != newSize.W)
            throw new InvalidOperationException($"ResampleWithOffset: the scale factors gave a {x.Size(2)}x{x.Size(3)} grid for {newSize.H}x{newSize.W}");
        x = x.Permute(0, 2, 3, 1).Reshape(1, -1, d).To(posEmbed.DType);
        if (numPrefixTokens > 0) x = Tensor.Cat([posEmbed.Slice(1, 0, numPrefixTokens), x], 1);
        return s.MoveOut(x);
    }
}
