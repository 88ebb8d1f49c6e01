using System.Globalization;
using System.Text;
using System.Text.Json;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Vision.Data.Datasets;

namespace Reproduce.Vision.Data.FashionScenes;

/// <summary>
/// The fashion-scenes stand-in for ADE20K, NYUv2 and KITTI: scenes composed from Fashion-MNIST items
/// (train items for the train split, test items for the test split; see <see cref="SceneRenderer"/>),
/// written once to a cache folder in the real on-disk formats so the real readers serve them:
/// <list type="bullet">
/// <item><c>ADEChallengeData2016/</c>: images/{training,validation}/ADE_{train,val}_%08d.jpg and 8-bit label PNGs
/// (0 unlabeled, 1 background, 2..11 the Fashion-MNIST classes), objectInfo150.txt listing the 11 classes;</item>
/// <item><c>nyu/</c>: the BTS layout (sync/room_%04d/rgb_%05d.jpg + sync_depth_%05d.png in millimetres for train,
/// official_splits/test/... for test, lists in train_test_inputs/), dense depth;</item>
/// <item><c>kitti/</c>: the BTS KITTI layout (2000_01_01/2000_01_01_drive_%04d_sync/image_02/data/%010d.png,
/// data_depth_annotated/{train,val}/.../proj_depth/groundtruth/image_02/%010d.png = metres × 256, lists in
/// train_test_inputs/), sparse scan-line depth, range-capped, 0 = invalid.</item>
/// </list>
/// Scene i of a split is drawn from <c>new Random(seed mixed with split and i)</c>, so scenes are independent
/// of each other and of the counts; files are byte-identical for equal configs.
/// </summary>
public static class FashionScenes
{
    /// <summary>Bumped whenever rendering or layout changes, so old caches are not reused (2: dark rooms, light items).</summary>
    public const int FormatVersion = 2;

    /// <summary>Stored label id of mixed (unlabeled) pixels; ignore (255) after reduce_zero_label.</summary>
    public const byte UnlabeledId = 0;

    /// <summary>Stored label id of wall and floor; class 0 after reduce_zero_label.</summary>
    public const byte BackgroundId = 1;

    /// <summary>Stored label id of Fashion-MNIST class 0; class c is FirstItemId + c (class c + 1 after reduction).</summary>
    public const byte FirstItemId = 2;

    /// <summary>Class names after reduce_zero_label: background, then Fashion-MNIST's ten.</summary>
    public static IReadOnlyList<string> Classes { get; } = ["background", .. FashionMnistSplit.Classes];

    private const int FramesPerFolder = 100;
    private const string KittiDate = "2000_01_01";

    /// <summary>Where trees are cached: $REPRODUCE_DATA_DIR, else $XDG_CACHE_HOME/reproduce/data, else ~/.cache/reproduce/data.</summary>
    public static string DefaultCacheRoot =>
        Environment.GetEnvironmentVariable("REPRODUCE_DATA_DIR") is { Length: > 0 } d ? d
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "reproduce", "data");

    /// <summary>
    /// The cached tree for <paramref name="config"/> under <paramref name="cacheRoot"/>, generating it first
    /// when absent. A tree appears only complete: it is built in a temporary sibling folder and renamed.
    /// </summary>
    public static FashionScenesTree Ensure(FashionScenesConfig config, string? cacheRoot = null,
        FashionMnistSplit? train = null, FashionMnistSplit? test = null)
    {
        config.Validate();
        var root = Path.GetFullPath(cacheRoot ?? DefaultCacheRoot);
        var dir = Path.Combine(root, $"fashion-scenes-{config.Hash()}");
        if (Directory.Exists(dir)) return new FashionScenesTree(dir, config);
        Directory.CreateDirectory(root);
        var tmp = Path.Combine(root, $".fashion-scenes-{config.Hash()}.{Guid.NewGuid():N}.tmp");
        try
        {
            Write(config, tmp, train ?? (config.TrainCount > 0 ? FashionMnist.Load("train") : null),
                test ?? (config.TestCount > 0 ? FashionMnist.Load("test") : null));
            try
            {
                Directory.Move(tmp, dir);
            }
            catch (IOException) when (Directory.Exists(dir))
            {
                Directory.Delete(tmp, recursive: true); // another process finished the same tree first
            }
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
            throw;
        }
        return new FashionScenesTree(dir, config);
    }

    /// <summary>Writes the whole tree into <paramref name="dir"/> (which must not exist yet).</summary>
    public static void Write(FashionScenesConfig config, string dir, FashionMnistSplit? train, FashionMnistSplit? test)
    {
        config.Validate();
        if (Directory.Exists(dir)) throw new IOException($"{dir}: already exists; fashion-scenes are written into a new folder");
        Directory.CreateDirectory(dir);
        var objectInfo = new StringBuilder("Idx\tRatio\tTrain\tVal\tName\n");
        for (var c = 0; c < Classes.Count; c++) objectInfo.Append(CultureInfo.InvariantCulture, $"{c + 1}\t0\t0\t0\t{Classes[c]}\n");
        AtomicFile.WriteAllText(Path.Combine(dir, "ADEChallengeData2016", Ade20kClasses.ObjectInfoFile), objectInfo.ToString(), createDirectory: true);
        foreach (var (split, count, items) in new[] { ("train", config.TrainCount, train), ("test", config.TestCount, test) })
        {
            if (count == 0) continue;
            if (items is null) throw new ArgumentException($"fashion-scenes: the {split} split needs Fashion-MNIST {split} items");
            WriteSplit(config, dir, split, count, items);
        }
        AtomicFile.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }) + "\n", createDirectory: true);
    }

    /// <summary>Scene <paramref name="index"/> of <paramref name="split"/> ("train" or "test"), rendered in memory.</summary>
    public static Scene RenderScene(FashionScenesConfig config, string split, int index, FashionMnistSplit items)
    {
        var rng = new Random(SceneSeed(config.Seed, split, index));
        var layout = SceneRenderer.SampleLayout(rng, config, items);
        return SceneRenderer.Render(layout, items, config.Height, config.Width);
    }

    /// <summary>The seed of one scene: SplitMix64 of (seed, split, index), folded to a non-negative int.</summary>
    public static int SceneSeed(int seed, string split, int index)
    {
        var z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (split == "train" ? 0x1234567UL : 0x7654321UL) ^ ((ulong)(uint)index << 32);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    private static void WriteSplit(FashionScenesConfig config, string dir, string split, int count, FashionMnistSplit items)
    {
        var train = split == "train";
        var ade = Path.Combine(dir, "ADEChallengeData2016");
        var adeSplit = train ? "training" : "validation";
        var adePrefix = train ? "ADE_train_" : "ADE_val_";
        var nyuData = NyuDepthV2.DataDir(Path.Combine(dir, "nyu"), split);
        var kitti = Path.Combine(dir, "kitti");
        var kittiGt = Path.Combine(kitti, "data_depth_annotated", train ? "train" : "val");
        var nyuLines = new string[count];
        var kittiLines = new string[count];
        var focal = (0.8 * config.Width).ToString("R", CultureInfo.InvariantCulture);

        Parallel.For(0, count, i =>
        {
            using var scope = Scope.Enter();
            var scene = RenderScene(config, split, i, items);
            int h = scene.Height, w = scene.Width;
            var rgb = Tensor.From<byte>(scene.Rgb, [h, w, 3]);
            var jpeg = ImageCodec.EncodeJpeg(rgb, config.JpegQuality, ChromaSubsampling.S444, ImageLayout.Hwc);
            var png = ImageCodec.EncodePng(rgb, layout: ImageLayout.Hwc);
            var labels = ImageCodec.EncodePng(Tensor.From<byte>(scene.Labels, [h, w]));
            var dense = ImageCodec.EncodePng(Tensor.From<int>(Quantize(scene.Depth, NyuDepthV2.DepthScale), [h, w]));
            var sparse = ImageCodec.EncodePng(Tensor.From<int>(Quantize(scene.SparseDepth(config.ScanlineStep, config.SparseMaxDepth), KittiDepth.DepthScale), [h, w]));

            var stem = adePrefix + (i + 1).ToString("D8", CultureInfo.InvariantCulture);
            AtomicFile.WriteAllBytes(Path.Combine(ade, "images", adeSplit, stem + ".jpg"), jpeg, createDirectory: true);
            AtomicFile.WriteAllBytes(Path.Combine(ade, "annotations", adeSplit, stem + ".png"), labels, createDirectory: true);

            var room = $"room_{(train ? 0 : 1000) + i / FramesPerFolder:D4}";
            var frame = (i % FramesPerFolder).ToString("D5", CultureInfo.InvariantCulture);
            AtomicFile.WriteAllBytes(Path.Combine(nyuData, room, $"rgb_{frame}.jpg"), jpeg, createDirectory: true);
            AtomicFile.WriteAllBytes(Path.Combine(nyuData, room, $"sync_depth_{frame}.png"), dense, createDirectory: true);
            nyuLines[i] = $"/{room}/rgb_{frame}.jpg /{room}/sync_depth_{frame}.png {focal}";

            var drive = $"{KittiDate}_drive_{(train ? 0 : 1000) + i / FramesPerFolder:D4}_sync";
            var kframe = (i % FramesPerFolder).ToString("D10", CultureInfo.InvariantCulture);
            var image = $"{KittiDate}/{drive}/image_02/data/{kframe}.png";
            var gt = $"{drive}/proj_depth/groundtruth/image_02/{kframe}.png";
            AtomicFile.WriteAllBytes(Path.Combine(kitti, image), png, createDirectory: true);
            AtomicFile.WriteAllBytes(Path.Combine(kittiGt, gt), sparse, createDirectory: true);
            kittiLines[i] = $"{image} {gt} {focal}";
        });
        AtomicFile.WriteAllText(Path.Combine(dir, "nyu", "train_test_inputs", NyuDepthV2.SplitFileName(split)), string.Join("\n", nyuLines) + "\n", createDirectory: true);
        AtomicFile.WriteAllText(Path.Combine(kitti, "train_test_inputs", KittiDepth.SplitFileName(split)), string.Join("\n", kittiLines) + "\n", createDirectory: true);
    }

    /// <summary>Metres → stored uint16 values (rounded, 0 stays 0 = invalid).</summary>
    private static int[] Quantize(double[] metres, double scale)
    {
        var v = new int[metres.Length];
        for (var i = 0; i < v.Length; i++) v[i] = (int)Math.Min(65535, Math.Floor(metres[i] * scale + 0.5));
        return v;
    }
}
