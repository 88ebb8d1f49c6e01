namespace Reproduce.Vision.Data.FashionScenes;

/// <summary>
/// Draws and renders fashion-scenes. Only +, −, ×, ÷, sqrt and floor are used (IEEE-exact in .NET), and
/// every random number comes from a <see cref="Random"/> with an explicit seed (.NET's seeded generator is
/// its stable legacy algorithm), so equal seeds give identical bytes on every machine.
/// </summary>
/// <remarks>
/// Geometry: a pinhole camera (focal f = 0.8·W px) at height h above a floor; the floor row y (centre
/// y + 0.5) below the horizon row y₀ lies at depth f·h / (y + 0.5 − y₀); a back wall at depth D covers the
/// rows above the floor's far edge. An item of world height S at depth Z stands on the floor: its square is
/// f·S/Z pixels wide with its bottom on row y₀ + f·h/Z. So depth shows in the image three ways: vertical
/// position, size, and shading (everything is dimmed by 1.15 / (1 + 0.15·Z), capped at 1), plus the
/// perspective of the floor's 0.5 m checker tiles.
/// Wall and floor form the back layer; items are drawn over it, far to near. An item pixel's coverage α comes from its Fashion-MNIST intensity a
/// (bilinear): α = 0 for a &lt; 0.05, else min(1, a / 0.3). The nearest item with α ≥ 0.5 owns the pixel
/// (its class and depth); where a nearer item covers it partly (0 &lt; α &lt; 0.5) the colour is mixed and
/// the pixel is unlabeled (ADE id 0 → ignore 255 after reduce_zero_label); its depth stays the owner's.
/// </remarks>
public static class SceneRenderer
{
    /// <summary>Coverage at or above which an item owns a pixel.</summary>
    public const double OwnAlpha = 0.5;

    private const double MinItemDepth = 0.9;
    private const int Side = FashionMnistSplit.Side;

    /// <summary>Draws a scene layout from <paramref name="rng"/>, taking items from <paramref name="items"/>.</summary>
    public static SceneLayout SampleLayout(Random rng, FashionScenesConfig config, FashionMnistSplit items)
    {
        int h = config.Height, w = config.Width;
        var room = SampleRoom(rng, h, w);
        var (focal, horizon, cameraHeight, wallDepth) = (room.Focal, room.Horizon, room.CameraHeight, room.WallDepth);
        var count = rng.Next(config.MinItems, config.MaxItems + 1);
        var list = new List<SceneItem>(count);
        for (var k = 0; k < count; k++)
        {
            var source = rng.Next(items.Count);
            var u = rng.NextDouble();
            var depth = MinItemDepth + (wallDepth - 0.3 - MinItemDepth) * u * u; // more near items than far ones
            var worldHeight = 0.5 + 0.3 * rng.NextDouble();
            var size = focal * worldHeight / depth;
            var bottom = horizon + focal * cameraHeight / depth;
            var centre = -size / 4 + (w + size / 2) * rng.NextDouble();
            list.Add(new SceneItem(items.Labels[source], source, depth, centre - size / 2, bottom - size, size, ItemTint(rng)));
        }
        return room with { Items = list };
    }

    /// <summary>
    /// The empty room of a scene (camera, wall and floor, no items), drawn from <paramref name="rng"/>: the first five
    /// draws of <see cref="SampleLayout"/>, shared with fashion-objects so both have the same visual style.
    /// </summary>
    public static SceneLayout SampleRoom(Random rng, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var focal = 0.8 * width;
        var horizon = height * (0.22 + 0.08 * rng.NextDouble());
        var cameraHeight = 0.45 + 0.15 * rng.NextDouble();
        var wallDepth = 6.0 + 4.0 * rng.NextDouble();
        // Dark rooms and light items (ItemTint), Fashion-MNIST's own polarity: with rooms and items drawn from
        // overlapping ranges (wall 0.45–0.85, floor 0.3–0.7, items 0.4–1), item-vs-room contrast was often near zero
        // and of random sign, and a patch-8 ViT stayed at chance on fashion-objects for 200 steps of 32 (a small CNN
        // 22 % after 300); with this palette, 40 % and 56 % (tools/learnability, Probes/README.md).
        var wall = Colour(rng, 0.15, 0.45);
        var floor = Colour(rng, 0.15, 0.45);
        return new SceneLayout(focal, horizon, cameraHeight, wallDepth, wall, floor, []);
    }

    /// <summary>An item tint: each channel uniform in [0.7, 1), lighter than any room colour (see <see cref="SampleRoom"/>).</summary>
    public static (double R, double G, double B) ItemTint(Random rng) => Colour(rng, 0.7, 1.0);

    /// <summary>Renders <paramref name="layout"/> at <paramref name="height"/>×<paramref name="width"/>.</summary>
    public static Scene Render(SceneLayout layout, FashionMnistSplit items, int height, int width)
    {
        var n = height * width;
        var rgb = new double[n * 3];
        var labels = new byte[n];
        var depth = new double[n];
        var wallBottom = layout.WallBottom;
        for (var y = 0; y < height; y++)
        {
            var cy = y + 0.5;
            for (var x = 0; x < width; x++)
            {
                var i = y * width + x;
                double z, light;
                (double R, double G, double B) c;
                if (cy > wallBottom)
                {
                    z = layout.Focal * layout.CameraHeight / (cy - layout.Horizon);
                    var worldX = (x + 0.5 - width / 2.0) * z / layout.Focal;
                    var tile = (long)(Math.Floor(worldX / 0.5) + Math.Floor(z / 0.5));
                    light = (tile & 1) == 0 ? 0.92 : 1.08;
                    c = layout.Floor;
                }
                else
                {
                    z = layout.WallDepth;
                    light = 0.9 + 0.2 * (1 - cy / wallBottom);
                    c = layout.Wall;
                }
                var s = Shade(z) * light;
                rgb[3 * i] = c.R * s;
                rgb[3 * i + 1] = c.G * s;
                rgb[3 * i + 2] = c.B * s;
                labels[i] = FashionScenes.BackgroundId;
                depth[i] = z;
            }
        }

        var partial = new bool[n];
        foreach (var item in FarToNear(layout.Items))
        {
            int x0 = Math.Max(0, (int)Math.Floor(item.Left)), x1 = Math.Min(width, (int)Math.Ceiling(item.Left + item.Size));
            int y0 = Math.Max(0, (int)Math.Floor(item.Top)), y1 = Math.Min(height, (int)Math.Ceiling(item.Top + item.Size));
            var shade = Shade(item.Depth);
            for (var y = y0; y < y1; y++)
                for (var x = x0; x < x1; x++)
                {
                    var (alpha, a) = Coverage(item, items, x, y);
                    if (alpha <= 0) continue;
                    var i = y * width + x;
                    var lum = (0.35 + 0.65 * a) * shade;
                    rgb[3 * i] = alpha * item.Tint.R * lum + (1 - alpha) * rgb[3 * i];
                    rgb[3 * i + 1] = alpha * item.Tint.G * lum + (1 - alpha) * rgb[3 * i + 1];
                    rgb[3 * i + 2] = alpha * item.Tint.B * lum + (1 - alpha) * rgb[3 * i + 2];
                    if (alpha >= OwnAlpha)
                    {
                        labels[i] = (byte)(FashionScenes.FirstItemId + item.Class);
                        depth[i] = item.Depth;
                        partial[i] = false;
                    }
                    else partial[i] = true;
                }
        }
        var bytes = new byte[n * 3];
        for (var k = 0; k < bytes.Length; k++) bytes[k] = (byte)Math.Clamp((int)(rgb[k] * 255 + 0.5), 0, 255);
        for (var i = 0; i < n; i++)
            if (partial[i]) labels[i] = FashionScenes.UnlabeledId;
        return new Scene(height, width, bytes, labels, depth, layout);
    }

    /// <summary>Items sorted by decreasing depth (ties: later-drawn items in front), the painting order.</summary>
    public static IEnumerable<SceneItem> FarToNear(IReadOnlyList<SceneItem> items) =>
        items.Select((it, k) => (it, k)).OrderByDescending(p => p.it.Depth).ThenBy(p => p.k).Select(p => p.it);

    /// <summary>
    /// Coverage α and intensity a (0–1) of <paramref name="item"/> at pixel (x, y): the item image sampled
    /// bilinearly at the pixel centre (zero outside it), α = 0 below a = 0.05, else min(1, a / 0.3).
    /// </summary>
    public static (double Alpha, double Intensity) Coverage(SceneItem item, FashionMnistSplit items, int x, int y)
    {
        var u = (x + 0.5 - item.Left) / item.Size * Side - 0.5;
        var v = (y + 0.5 - item.Top) / item.Size * Side - 0.5;
        if (u <= -1 || v <= -1 || u >= Side || v >= Side) return (0, 0);
        int iu = (int)Math.Floor(u), iv = (int)Math.Floor(v);
        double fu = u - iu, fv = v - iv;
        var img = items.Images;
        var o = item.Source * Side * Side;
        double Px(int px, int py) => px < 0 || py < 0 || px >= Side || py >= Side ? 0 : img[o + py * Side + px];
        var a = ((1 - fv) * ((1 - fu) * Px(iu, iv) + fu * Px(iu + 1, iv)) + fv * ((1 - fu) * Px(iu, iv + 1) + fu * Px(iu + 1, iv + 1))) / 255.0;
        return a < 0.05 ? (0, a) : (Math.Min(1, a / 0.3), a);
    }

    /// <summary>Distance dimming: min(1, 1.15 / (1 + 0.15·z)).</summary>
    public static double Shade(double z) => Math.Min(1.0, 1.15 / (1 + 0.15 * z));

    private static (double, double, double) Colour(Random rng, double lo, double hi) =>
        (lo + (hi - lo) * rng.NextDouble(), lo + (hi - lo) * rng.NextDouble(), lo + (hi - lo) * rng.NextDouble());
}
