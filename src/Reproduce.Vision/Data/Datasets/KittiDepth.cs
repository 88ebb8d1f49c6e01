namespace Reproduce.Vision.Data.Datasets;

/// <summary>
/// KITTI depth (Eigen split, docs/protocols.md §4): split lines <c>&lt;date&gt;/&lt;drive&gt;_sync/image_02/data/&lt;frame&gt;.png
/// &lt;drive&gt;_sync/proj_depth/groundtruth/image_02/&lt;frame&gt;.png &lt;focal&gt;</c> (depth <c>None</c>: no ground
/// truth); depth is uint16 with metres = value / 256 and 0 = invalid. The standard root is BTS's
/// <c>kitti_dataset/</c>: the raw date folders, <c>data_depth_annotated/</c> (whose files are looked up
/// directly and under its official <c>train/</c> and <c>val/</c> folders) and the lists in
/// <c>train_test_inputs/</c>. Optionally applies the KB crop (bottom-centred 352×1216) to image and depth.
/// </summary>
public static class KittiDepth
{
    /// <summary>Stored value per metre.</summary>
    public const double DepthScale = 256.0;

    /// <summary>KB crop height.</summary>
    public const int KbHeight = 352;

    /// <summary>KB crop width.</summary>
    public const int KbWidth = 1216;

    /// <summary>The KB crop of an H×W frame: top = H − 352, left = (W − 1216) / 2 (integer division).</summary>
    public static CropWindow KbCrop(int height, int width, int cropHeight = KbHeight, int cropWidth = KbWidth) =>
        new(height - cropHeight, (int)Math.Floor((width - cropWidth) / 2.0), cropHeight, cropWidth);

    /// <summary>The Garg crop rows/columns of an H×W ground truth (docs/protocols.md §4).</summary>
    public static CropWindow GargCrop(int height, int width)
    {
        int top = (int)(0.40810811 * height), bottom = (int)(0.99189189 * height);
        int left = (int)(0.03594771 * width), right = (int)(0.96405229 * width);
        return new CropWindow(top, left, bottom - top, right - left);
    }

    /// <summary>
    /// Storage conventions; with <paramref name="kbCrop"/> the loader crops every frame to
    /// <paramref name="cropHeight"/>×<paramref name="cropWidth"/> (the KB crop; smaller frames are an error).
    /// </summary>
    public static DepthConvention Convention(bool kbCrop = false, int cropHeight = KbHeight, int cropWidth = KbWidth) => new()
    {
        Name = "kitti",
        DepthScale = DepthScale,
        MaxDepth = 80.0,
        PairMismatch = PairMismatch,
        DepthCandidates = (root, rel) => [Path.Combine(root, rel), Path.Combine(root, "train", rel), Path.Combine(root, "val", rel)],
        Crop = kbCrop ? (h, w) => KbCrop(h, w, cropHeight, cropWidth) : null,
    };

    /// <summary>BTS's file name of a split list ("train" or "test").</summary>
    public static string SplitFileName(string split) => split switch
    {
        "train" => "eigen_train_files_with_gt.txt",
        "test" => "eigen_test_files_with_gt.txt",
        _ => throw new ArgumentException($"KITTI split must be 'train' or 'test', not '{split}'", nameof(split)),
    };

    /// <summary>Opens a split of the standard layout under <paramref name="root"/>.</summary>
    public static DepthDataset Open(string root, string split, bool kbCrop = false, int cropHeight = KbHeight, int cropWidth = KbWidth) =>
        new(Convention(kbCrop, cropHeight, cropWidth), split, Path.Combine(root, "train_test_inputs", SplitFileName(split)),
            root, Path.Combine(root, "data_depth_annotated"));

    /// <summary>Opens any BTS list with its raw-data path and ground-truth path (BTS's --data_path, --gt_path).</summary>
    public static DepthDataset Open(string splitFile, string dataRoot, string gtRoot, bool kbCrop = false, string split = "custom") =>
        new(Convention(kbCrop), split, splitFile, dataRoot, gtRoot);

    /// <summary>Drive folder, camera and frame of the image and depth paths must agree.</summary>
    private static string? PairMismatch(string image, string depth)
    {
        var (di, dd) = (Drive(image), Drive(depth));
        if (di != dd) return $"drives '{di ?? "(none)"}' and '{dd ?? "(none)"}' differ";
        var (ci, cd) = (Camera(image), Camera(depth));
        if (ci != cd) return $"cameras '{ci ?? "(none)"}' and '{cd ?? "(none)"}' differ";
        var (fi, fd) = (Path.GetFileNameWithoutExtension(image), Path.GetFileNameWithoutExtension(depth));
        return fi == fd ? null : $"frame {fi} and depth frame {fd} differ";
    }

    private static string? Drive(string rel) => rel.Split('/').FirstOrDefault(p => p.EndsWith("_sync", StringComparison.Ordinal));

    private static string? Camera(string rel) => rel.Split('/').FirstOrDefault(p => p.StartsWith("image_0", StringComparison.Ordinal));
}
