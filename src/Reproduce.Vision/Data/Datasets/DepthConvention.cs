namespace Reproduce.Vision.Data.Datasets;

/// <summary>A crop window in pixels.</summary>
/// <param name="Top">First row.</param>
/// <param name="Left">First column.</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
public readonly record struct CropWindow(int Top, int Left, int Height, int Width);

/// <summary>How a depth dataset stores and pairs its files (NYUv2 and KITTI differ only in these).</summary>
public sealed record DepthConvention
{
    /// <summary>Dataset name for messages, e.g. "nyu".</summary>
    public required string Name { get; init; }

    /// <summary>Stored value per metre: 1000 for NYUv2 (mm), 256 for KITTI.</summary>
    public required double DepthScale { get; init; }

    /// <summary>Upper end of the evaluation range in metres (NYUv2 10, KITTI 80), for reporting.</summary>
    public required double MaxDepth { get; init; }

    /// <summary>Why an image path and a depth path of one split line do not belong together, or null.</summary>
    public required Func<string, string, string?> PairMismatch { get; init; }

    /// <summary>
    /// Candidate absolute paths of a depth file given the depth root and the line's relative path, in
    /// the order tried (the first that exists is used; the first is reported when none does).
    /// </summary>
    public Func<string, string, IReadOnlyList<string>> DepthCandidates { get; init; } = (root, rel) => [Path.Combine(root, rel)];

    /// <summary>A crop applied to image and depth on load, given the image height and width; null: none.</summary>
    public Func<int, int, CropWindow>? Crop { get; init; }
}
