using System.Globalization;
using Reproduce.Torch;

namespace Reproduce.Vision.Metrics;

/// <summary>Which evaluation crop restricts the depth metrics (cleinc/bts, pytorch/bts_eval.py).</summary>
public enum DepthCrop
{
    /// <summary>Every pixel may count.</summary>
    None,
    /// <summary>NYUv2 Eigen crop (BTS <c>--eigen_crop</c>, dataset nyu): rows [45, 471), columns [41, 601) of the 480×640 GT.</summary>
    EigenNyu,
    /// <summary>
    /// KITTI Garg crop (BTS <c>--garg_crop</c>): rows [⌊0.40810811·H⌋, ⌊0.99189189·H⌋),
    /// columns [⌊0.03594771·W⌋, ⌊0.96405229·W⌋).
    /// </summary>
    GargKitti,
    /// <summary>
    /// KITTI Eigen crop (BTS <c>--eigen_crop</c>, dataset kitti): rows [⌊0.3324324·H⌋, ⌊0.91351351·H⌋),
    /// columns [⌊0.0359477·W⌋, ⌊0.96405229·W⌋).
    /// </summary>
    EigenKitti,
}

/// <summary>
/// Settings of a depth evaluation: the valid GT range (min_depth, max_depth), which also clamps predictions,
/// and the crop. Presets follow the BTS README commands: <see cref="Nyu"/> (<c>--min_depth_eval 1e-3
/// --max_depth_eval 10 --eigen_crop</c>) and <see cref="Kitti"/> (<c>--min_depth_eval 1e-3 --max_depth_eval 80
/// --garg_crop</c>; the 80 m cap).
/// </summary>
/// <param name="MinDepth">GT must be &gt; this (metres); predictions below are raised to it.</param>
/// <param name="MaxDepth">GT must be &lt; this (metres); predictions above are lowered to it.</param>
/// <param name="Crop">Evaluation crop.</param>
public sealed record DepthEvalOptions(double MinDepth = 1e-3, double MaxDepth = 10, DepthCrop Crop = DepthCrop.None)
{
    /// <summary>NYUv2 (BTS / Eigen split): range (1e-3, 10) m, Eigen crop.</summary>
    public static DepthEvalOptions Nyu => new(1e-3, 10, DepthCrop.EigenNyu);

    /// <summary>KITTI (BTS / Eigen split): range (1e-3, 80) m, Garg crop.</summary>
    public static DepthEvalOptions Kitti => new(1e-3, 80, DepthCrop.GargKitti);

    /// <summary>Throws naming the bad setting.</summary>
    public void Validate()
    {
        if (!double.IsFinite(MinDepth) || !double.IsFinite(MaxDepth) || MinDepth < 0 || MaxDepth <= MinDepth)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"DepthEvalOptions: need 0 ≤ min_depth < max_depth, both finite (got min_depth {MinDepth}, max_depth {MaxDepth})"));
        if (!Enum.IsDefined(Crop)) throw new ArgumentException($"DepthEvalOptions: unknown crop {(int)Crop}");
    }

    /// <summary>
    /// The crop window [top, bottom) × [left, right) for a GT of <paramref name="height"/>×<paramref name="width"/>,
    /// with Python's <c>int()</c> (truncation) of the fraction products as in BTS; null for <see cref="DepthCrop.None"/>.
    /// The NYU Eigen crop is defined in pixels of the 480×640 frame and is refused for any other size.
    /// </summary>
    public (int Top, int Bottom, int Left, int Right)? CropWindow(long height, long width)
    {
        switch (Crop)
        {
            case DepthCrop.None:
                return null;
            case DepthCrop.EigenNyu:
                if (height != 480 || width != 640)
                    throw new ArgumentException($"DepthEvalOptions: the NYUv2 Eigen crop [45:471, 41:601] is defined for 480×640 ground truth, got {height}×{width}");
                return (45, 471, 41, 601);
            case DepthCrop.GargKitti:
                return ((int)(0.40810811 * height), (int)(0.99189189 * height), (int)(0.03594771 * width), (int)(0.96405229 * width));
            case DepthCrop.EigenKitti:
                return ((int)(0.3324324 * height), (int)(0.91351351 * height), (int)(0.0359477 * width), (int)(0.96405229 * width));
            default:
                throw new ArgumentException($"DepthEvalOptions: unknown crop {(int)Crop}");
        }
    }

    /// <summary>
    /// BTS <c>--do_kb_crop</c> at evaluation: pastes a 352×1216 prediction into a zero canvas of the GT size at
    /// top = H − 352, left = ⌊(W − 1216)/2⌋ (zeros then become min_depth through the clamp).
    /// </summary>
    public static Tensor PasteKbCrop(Tensor prediction, long height, long width)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        if (prediction.Dim != 2 || prediction.Size(0) != 352 || prediction.Size(1) != 1216)
            throw new ArgumentException($"PasteKbCrop: the prediction must be [352, 1216], got {prediction.Describe()}");
        if (height < 352 || width < 1216)
            throw new ArgumentException($"PasteKbCrop: the ground truth ({height}×{width}) is smaller than the 352×1216 KB crop");
        using var scope = Scope.Enter();
        var canvas = Torch.Torch.Zeros([height, width], prediction.DType, prediction.Device);
        var top = height - 352;
        var left = (width - 1216) / 2;
        canvas.Narrow(0, top, 352).Narrow(1, left, 1216).Copy_(prediction);
        return scope.MoveOut(canvas);
    }
}
