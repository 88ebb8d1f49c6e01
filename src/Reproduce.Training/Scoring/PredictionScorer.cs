using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Vision.Metrics;

namespace Reproduce.Training.Scoring;

/// <summary>
/// Scores predictions saved as PNG files by any tool against a ground-truth tree (<c>reproduce score</c>). The
/// ground truth decides the file list: every <c>*.png</c> under the GT folder (recursively, ordinal order), and
/// the prediction with the same relative path under the prediction folder. A missing prediction, a prediction
/// PNG without ground truth, a size mismatch, a multi-channel PNG or an unreadable file throws
/// <see cref="ScoringException"/> naming the file.
/// <list type="bullet">
/// <item>Segmentation: single-channel 8- or 16-bit label maps in the dataset's own ids; with reduce_zero_label
/// (ADE20K) the reduction is applied to both GT and predictions; mmseg conventions (<see cref="SegmentationMetric"/>).</item>
/// <item>Depth: single-channel 16-bit PNGs in the dataset's units (NYUv2 mm, KITTI /256), 0 = invalid GT;
/// BTS conventions with the dataset's range and crop (<see cref="DepthMetric"/>, <see cref="DepthDatasets"/>).</item>
/// </list>
/// </summary>
public static class PredictionScorer
{
    /// <summary>Default number of classes with reduce_zero_label: ADE20K's 150.</summary>
    public const int Ade20kClasses = 150;

    /// <summary>
    /// Dataset-level mIoU / aAcc / mAcc of the predictions under <paramref name="predictionDir"/> against the labels
    /// under <paramref name="groundTruthDir"/>; ignore index 255 (after the optional reduction).
    /// </summary>
    /// <param name="predictionDir">Folder of predicted label PNGs.</param>
    /// <param name="groundTruthDir">Folder of ground-truth label PNGs.</param>
    /// <param name="numClasses">Evaluated classes C (after the reduction).</param>
    /// <param name="reduceZeroLabel">Apply mmseg's reduce_zero_label to GT and predictions.</param>
    public static SegmentationResult ScoreSegmentation(string predictionDir, string groundTruthDir, int numClasses, bool reduceZeroLabel)
    {
        if (numClasses < 1 || numClasses > 255)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"score seg: --num-classes must be in 1..255 (255 is the ignore index), got {numClasses}");
        var metric = new SegmentationMetric(numClasses, 255, reduceZeroLabel, reducePredictions: reduceZeroLabel);
        foreach (var (pred, gt) in Pairs(predictionDir, groundTruthDir))
        {
            using var scope = Scope.Enter();
            var (p, g) = LoadPair(pred, gt, sixteenBit: false);
            metric.Update(p, g);
        }
        return metric.Result();
    }

    /// <summary>
    /// Per-image-averaged depth errors of the 16-bit predictions under <paramref name="predictionDir"/> against the
    /// ground truth under <paramref name="groundTruthDir"/>, both in <paramref name="dataset"/>'s PNG units.
    /// </summary>
    public static DepthResult ScoreDepth(string predictionDir, string groundTruthDir, DepthDataset dataset)
    {
        var scale = DepthDatasets.Scale(dataset);
        var metric = new DepthMetric(DepthDatasets.Options(dataset));
        foreach (var (pred, gt) in Pairs(predictionDir, groundTruthDir))
        {
            using var scope = Scope.Enter();
            var (p, g) = LoadPair(pred, gt, sixteenBit: true);
            try
            {
                metric.Update(p.To(ScalarType.Float64).Div(scale), g.To(ScalarType.Float64).Div(scale));
            }
            catch (ArgumentException e)
            {
                throw new ScoringException($"score depth: {gt}: {e.Message}", e);
            }
        }
        return metric.Result();
    }

    /// <summary>
    /// The (prediction, ground truth) path pairs, matched by relative path, in ordinal order of the GT paths.
    /// Throws when a folder is missing or empty, a prediction is missing, or a prediction has no ground truth.
    /// </summary>
    public static IReadOnlyList<(string Prediction, string GroundTruth)> Pairs(string predictionDir, string groundTruthDir)
    {
        ArgumentNullException.ThrowIfNull(predictionDir);
        ArgumentNullException.ThrowIfNull(groundTruthDir);
        var gtFiles = ListPngs(groundTruthDir, "ground-truth");
        var predFiles = ListPngs(predictionDir, "prediction");
        if (gtFiles.Count == 0) throw new ScoringException($"score: the ground-truth folder {Path.GetFullPath(groundTruthDir)} holds no .png files");
        var predSet = new HashSet<string>(predFiles, StringComparer.Ordinal);
        var gtSet = new HashSet<string>(gtFiles, StringComparer.Ordinal);
        var missing = gtFiles.Where(f => !predSet.Contains(f)).ToList();
        if (missing.Count > 0)
            throw new ScoringException($"score: no prediction for ground truth {Path.Combine(Path.GetFullPath(groundTruthDir), missing[0])}: expected {Path.Combine(Path.GetFullPath(predictionDir), missing[0])}" +
                (missing.Count > 1 ? $" ({missing.Count} predictions missing in all)" : ""));
        var extra = predFiles.Where(f => !gtSet.Contains(f)).ToList();
        if (extra.Count > 0)
            throw new ScoringException($"score: prediction {Path.Combine(Path.GetFullPath(predictionDir), extra[0])} has no ground truth {Path.Combine(Path.GetFullPath(groundTruthDir), extra[0])}" +
                (extra.Count > 1 ? $" ({extra.Count} extra predictions in all)" : ""));
        return gtFiles.Select(f => (Path.Combine(predictionDir, f), Path.Combine(groundTruthDir, f))).ToList();
    }

    private static List<string> ListPngs(string dir, string what)
    {
        if (!Directory.Exists(dir)) throw new ScoringException($"score: the {what} folder {Path.GetFullPath(dir)} does not exist");
        return Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase) && !AtomicFile.IsTempName(Path.GetFileName(f)))
            .Select(f => Path.GetRelativePath(dir, f))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
    }

    private static (Tensor Prediction, Tensor GroundTruth) LoadPair(string predPath, string gtPath, bool sixteenBit)
    {
        var g = LoadMap(gtPath, "ground truth", sixteenBit);
        var p = LoadMap(predPath, "prediction", sixteenBit);
        if (!p.Shape.SequenceEqual(g.Shape))
            throw new ScoringException($"score: prediction {predPath} is {p.Size(0)}×{p.Size(1)} but its ground truth {gtPath} is {g.Size(0)}×{g.Size(1)} (save predictions at the ground truth's size)");
        return (p, g);
    }

    private static Tensor LoadMap(string path, string what, bool sixteenBit)
    {
        ImageInfo info;
        Tensor image;
        try
        {
            var bytes = File.ReadAllBytes(path);
            info = ImageCodec.ReadInfo(bytes);
            if (info.Format != ImageFormat.Png) throw new InvalidDataException("not a PNG file");
            image = ImageCodec.DecodePng(bytes, ImageReadMode.Unchanged, ImageLayout.Chw);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new ScoringException($"score: cannot read {what} {path}: {e.Message}", e);
        }
        if (image.Dim != 3 || image.Size(0) != 1)
            throw new ScoringException($"score: {what} {path} has {image.Size(0)} channels; expected a single-channel (gray) PNG");
        if (sixteenBit && info.BitDepth != 16)
            throw new ScoringException($"score: {what} {path} is a {info.BitDepth}-bit PNG; depth maps must be 16-bit PNGs in the dataset's units");
        return image.Squeeze(0);
    }
}
