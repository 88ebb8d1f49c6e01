namespace Reproduce.Vision.Data.FashionScenes;

/// <summary>One Fashion-MNIST item placed in a scene: a camera-facing billboard standing on the floor.</summary>
/// <param name="Class">Fashion-MNIST class 0–9.</param>
/// <param name="Source">Index of the item image in its Fashion-MNIST split.</param>
/// <param name="Depth">Distance from the camera in metres (the same for every pixel of the item).</param>
/// <param name="Left">Left edge of the item's square in pixels (may be outside the image).</param>
/// <param name="Top">Top edge in pixels.</param>
/// <param name="Size">Side of the square in pixels: focal × world height / depth.</param>
/// <param name="Tint">RGB colour (0–1) multiplied with the item's intensities.</param>
public sealed record SceneItem(int Class, int Source, double Depth, double Left, double Top, double Size, (double R, double G, double B) Tint);

/// <summary>
/// The geometry and colours of one scene: a pinhole camera at <see cref="CameraHeight"/> above a floor that
/// meets a back wall at <see cref="WallDepth"/>, and the items on the floor.
/// </summary>
/// <param name="Focal">Focal length in pixels (0.8 × width, close to NYUv2's 518.9 / 640).</param>
/// <param name="Horizon">Image row of the horizon (pixel centres are at row + 0.5).</param>
/// <param name="CameraHeight">Camera height above the floor in metres.</param>
/// <param name="WallDepth">Distance of the back wall in metres.</param>
/// <param name="Wall">Wall colour (RGB, 0–1).</param>
/// <param name="Floor">Floor colour (RGB, 0–1).</param>
/// <param name="Items">The items in the order they were drawn from the random stream.</param>
public sealed record SceneLayout(double Focal, double Horizon, double CameraHeight, double WallDepth,
    (double R, double G, double B) Wall, (double R, double G, double B) Floor, IReadOnlyList<SceneItem> Items)
{
    /// <summary>First image row (at its centre) that shows floor rather than wall.</summary>
    public double WallBottom => Horizon + Focal * CameraHeight / WallDepth;
}
