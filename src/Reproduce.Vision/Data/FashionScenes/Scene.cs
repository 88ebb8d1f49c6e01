namespace Reproduce.Vision.Data.FashionScenes;

/// <summary>A rendered scene: what the files of one fashion-scenes sample hold, before encoding.</summary>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
/// <param name="Rgb">uint8 RGB pixels, row-major [H,W,3].</param>
/// <param name="Labels">
/// ADE20K-style stored ids [H,W]: <see cref="FashionScenes.UnlabeledId"/> (0) for mixed pixels,
/// <see cref="FashionScenes.BackgroundId"/> (1) for wall and floor, 2 + class for items.
/// </param>
/// <param name="Depth">Dense depth in metres [H,W] of the surface that owns each pixel.</param>
/// <param name="Layout">The geometry it was rendered from.</param>
public sealed record Scene(int Height, int Width, byte[] Rgb, byte[] Labels, double[] Depth, SceneLayout Layout)
{
    /// <summary>
    /// The KITTI stand-in: depth on every <paramref name="step"/>-th row (rows 0, step, 2·step, …), kept only
    /// where it is at most <paramref name="maxDepth"/> metres and the pixel is labelled (scanners drop mixed
    /// edge returns); 0 elsewhere (invalid).
    /// </summary>
    public double[] SparseDepth(int step, double maxDepth)
    {
        var sparse = new double[Depth.Length];
        for (var y = 0; y < Height; y += step)
            for (var x = 0; x < Width; x++)
            {
                var i = y * Width + x;
                if (Labels[i] != FashionScenes.UnlabeledId && Depth[i] <= maxDepth) sparse[i] = Depth[i];
            }
        return sparse;
    }
}
