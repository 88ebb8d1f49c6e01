namespace Reproduce.Vision.Data.Datasets;

/// <summary>
/// NYU Depth v2 in the BTS layout (docs/protocols.md §3.1): split lines <c>/&lt;scene&gt;/rgb_XXXXX.jpg
/// /&lt;scene&gt;/sync_depth_XXXXX.png &lt;focal&gt;</c>; depth is uint16 millimetres (metres = value / 1000,
/// 0 = missing). The standard root holds <c>sync/</c> (train), <c>official_splits/test/</c> (the 654 Eigen
/// test frames) and the BTS lists in <c>train_test_inputs/</c>. <see cref="OpenAny"/> also takes the official
/// labeled .mat (<see cref="NyuLabeledMat"/>).
/// </summary>
public static class NyuDepthV2
{
    /// <summary>Stored value per metre.</summary>
    public const double DepthScale = 1000.0;

    /// <summary>The Eigen evaluation crop on 480×640 ground truth: rows 45..470, columns 41..600.</summary>
    public static readonly CropWindow EigenCrop = new(45, 41, 426, 560);

    /// <summary>BTS's training crop (left 43, top 45, right 608, bottom 472) that removes the blank border.</summary>
    public static readonly CropWindow BtsTrainCrop = new(45, 43, 427, 565);

    /// <summary>Image and depth of a line must sit in the same scene folder and share the frame number.</summary>
    public static readonly DepthConvention Convention = new()
    {
        Name = "nyu",
        DepthScale = DepthScale,
        MaxDepth = 10.0,
        PairMismatch = (image, depth) =>
        {
            var (di, dd) = (Path.GetDirectoryName(image) ?? "", Path.GetDirectoryName(depth) ?? "");
            if (di != dd) return $"folders '{di}' and '{dd}' differ";
            var (fi, fd) = (DepthSplitFile.FrameNumber(image), DepthSplitFile.FrameNumber(depth));
            return fi == fd ? null : $"frame {fi ?? "(none)"} and depth frame {fd ?? "(none)"} differ";
        },
    };

    /// <summary>BTS's file name of a split list ("train" or "test").</summary>
    public static string SplitFileName(string split) => split switch
    {
        "train" => "nyudepthv2_train_files_with_gt.txt",
        "test" => "nyudepthv2_test_files_with_gt.txt",
        _ => throw new ArgumentException($"NYUv2 split must be 'train' or 'test', not '{split}'", nameof(split)),
    };

    /// <summary>The data folder of a split under the standard root: sync/ or official_splits/test/.</summary>
    public static string DataDir(string root, string split) =>
        split == "train" ? Path.Combine(root, "sync") : Path.Combine(root, "official_splits", "test");

    /// <summary>Opens a split of the standard layout under <paramref name="root"/>.</summary>
    public static DepthDataset Open(string root, string split)
    {
        var list = Path.Combine(root, "train_test_inputs", SplitFileName(split));
        return new DepthDataset(Convention, split, list, DataDir(root, split), DataDir(root, split));
    }

    /// <summary>
    /// Opens <paramref name="split"/> from whichever official form <paramref name="root"/> holds: the BTS layout
    /// when its list for the split exists (as <see cref="Open(string, string)"/>), else the official
    /// <c>nyu_depth_v2_labeled.mat</c> with <c>splits.mat</c> beside it (<see cref="NyuLabeledMat"/>).
    /// <paramref name="root"/> may also be the .mat file itself.
    /// </summary>
    /// <exception cref="FileNotFoundException">Neither form is there; the message names both paths looked for.</exception>
    public static IImageDataset<DepthSample> OpenAny(string root, string split)
    {
        if (File.Exists(root))
            return new NyuLabeledMat(root, Path.Combine(Path.GetDirectoryName(Path.GetFullPath(root))!, NyuOfficialSplits.FileName), split);
        var list = Path.Combine(root, "train_test_inputs", SplitFileName(split));
        if (File.Exists(list)) return Open(root, split);
        var mat = Path.Combine(root, NyuLabeledMat.FileName);
        if (File.Exists(mat)) return new NyuLabeledMat(mat, Path.Combine(root, NyuOfficialSplits.FileName), split);
        throw new FileNotFoundException(
            $"{Path.GetFullPath(list)}: NYUv2 split '{split}' not found: neither the BTS list nor {Path.GetFullPath(mat)} (with {NyuOfficialSplits.FileName}) exists",
            Path.GetFullPath(list));
    }

    /// <summary>Opens any BTS list with its data path (and a separate ground-truth path, as BTS's --gt_path).</summary>
    public static DepthDataset Open(string splitFile, string dataRoot, string? gtRoot, string split = "custom") =>
        new(Convention, split, splitFile, dataRoot, gtRoot ?? dataRoot);
}
