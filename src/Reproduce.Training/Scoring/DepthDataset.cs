using Reproduce.Vision.Metrics;

namespace Reproduce.Training.Scoring;

/// <summary>
/// A depth benchmark whose saved 16-bit PNGs <see cref="PredictionScorer"/> scores: it fixes the PNG units and the
/// evaluation settings (protocols §3.2 and §4).
/// </summary>
public enum DepthDataset
{
    /// <summary>NYUv2 (BTS layout): PNG value / 1000 = metres; range (1e-3, 10) m; Eigen crop of the 480×640 frame.</summary>
    Nyu,
    /// <summary>KITTI (depth-annotated): PNG value / 256 = metres; range (1e-3, 80) m (the 80 m cap); Garg crop.</summary>
    Kitti,
}

/// <summary>Units and evaluation presets of each <see cref="DepthDataset"/>.</summary>
public static class DepthDatasets
{
    /// <summary>PNG value per metre: 1000 for NYUv2, 256 for KITTI.</summary>
    public static double Scale(DepthDataset dataset) => dataset switch
    {
        DepthDataset.Nyu => 1000.0,
        DepthDataset.Kitti => 256.0,
        _ => throw new ArgumentOutOfRangeException(nameof(dataset), dataset, "unknown depth dataset"),
    };

    /// <summary>The evaluation settings: <see cref="DepthEvalOptions.Nyu"/> or <see cref="DepthEvalOptions.Kitti"/>.</summary>
    public static DepthEvalOptions Options(DepthDataset dataset) => dataset switch
    {
        DepthDataset.Nyu => DepthEvalOptions.Nyu,
        DepthDataset.Kitti => DepthEvalOptions.Kitti,
        _ => throw new ArgumentOutOfRangeException(nameof(dataset), dataset, "unknown depth dataset"),
    };

    /// <summary>Parses <c>nyu</c> or <c>kitti</c> (case-insensitive); the error lists the valid names.</summary>
    public static DepthDataset Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "nyu" or "nyuv2" => DepthDataset.Nyu,
            "kitti" => DepthDataset.Kitti,
            _ => throw new ArgumentException($"unknown depth dataset '{name}' (valid: nyu, kitti)"),
        };
    }
}
