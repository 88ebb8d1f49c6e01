namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// An inverse affine map in PIL's convention (<c>Image.transform(size, AFFINE, (a, b, c, d, e, f))</c>):
/// the output pixel at continuous position (x, y) takes the input value at
/// (a·x + b·y + c, d·x + e·y + f). Positions are continuous, pixel i spanning [i, i+1) with its centre
/// at i + 0.5, as in PIL and torchvision's affine grid.
/// </summary>
public readonly record struct AffineMatrix(double A, double B, double C, double D, double E, double F)
{
    /// <summary>The identity map.</summary>
    public static AffineMatrix Identity => new(1, 0, 0, 0, 1, 0);

    /// <summary>timm shear_x: x_in = x + factor·y (pivot at the top-left corner).</summary>
    public static AffineMatrix ShearX(double factor) => new(1, factor, 0, 0, 1, 0);

    /// <summary>timm shear_y: y_in = factor·x + y.</summary>
    public static AffineMatrix ShearY(double factor) => new(1, 0, 0, factor, 1, 0);

    /// <summary>timm translate_x/_y: the content moves by (−dx, −dy) pixels (x_in = x + dx).</summary>
    public static AffineMatrix Translate(double dx, double dy) => new(1, 0, dx, 0, 1, dy);

    /// <summary>
    /// PIL <c>Image.rotate(degrees)</c>: counter-clockwise by <paramref name="degrees"/> about the
    /// image centre (w/2, h/2), same canvas. The cosine and sine are rounded to 15 decimals as PIL does.
    /// </summary>
    public static AffineMatrix Rotate(double degrees, int width, int height)
    {
        var angle = -degrees * Math.PI / 180.0;
        var cos = Math.Round(Math.Cos(angle), 15);
        var sin = Math.Round(Math.Sin(angle), 15);
        double cx = width / 2.0, cy = height / 2.0;
        // Rotate about the origin, then shift so that the centre maps onto itself.
        var c = cos * -cx + sin * -cy + cx;
        var f = -sin * -cx + cos * -cy + cy;
        return new AffineMatrix(cos, sin, c, -sin, cos, f);
    }

    /// <summary>Maps an output position to the input position it samples.</summary>
    public (double X, double Y) Apply(double x, double y) => (A * x + B * y + C, D * x + E * y + F);

    /// <summary>
    /// The same geometric map expressed on a grid that is <paramref name="sx"/> times as wide and
    /// <paramref name="sy"/> times as tall (e.g. a 14×14 score map of a 224×224 image): S·M·S⁻¹.
    /// </summary>
    public AffineMatrix Rescaled(double sx, double sy) => new(A, B * sx / sy, C * sx, D * sy / sx, E, F * sy);
}
