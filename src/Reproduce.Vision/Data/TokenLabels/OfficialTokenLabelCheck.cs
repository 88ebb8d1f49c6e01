using System.Globalization;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Vision.Data.Datasets;

namespace Reproduce.Vision.Data.TokenLabels;

/// <summary>What <see cref="OfficialTokenLabelCheck.Check"/> expects of every file.</summary>
/// <param name="TopK">Scores per location (the release: 5).</param>
/// <param name="Side">Map side (the release: 18, NFNet-F6 at 576 px).</param>
public sealed record OfficialLabelFormat(int TopK = OfficialTokenLabels.ReleasedTopK, int Side = OfficialTokenLabels.ReleasedSide)
{
    /// <summary>The shape as messages print it.</summary>
    public override string ToString() => $"float16 [2,{TopK},{Side},{Side}]";
}

/// <summary>
/// Checks a folder of TokenLabeling's released label maps against an ImageNet tree (<c>reproduce data check
/// token-labels</c>): every training image has its file (named as generate_label.py names it, see
/// <see cref="OfficialTokenLabels.PathOf"/>), every file belongs to an image, and each checked file holds one fp16
/// tensor [2, k, S, S] whose plane 0 is sorted top-k scores (descending, finite) and plane 1 distinct integer class
/// indices below the tree's class count. Every problem names its file.
/// </summary>
public static class OfficialTokenLabelCheck
{
    /// <summary>The dataset name reports carry.</summary>
    public const string Dataset = "token-labels";

    /// <summary>How to get the release, for a missing folder.</summary>
    public static string DownloadPlan(string folder) =>
        $"download {OfficialTokenLabels.DownloadUrl} (TokenLabeling's README, \"Label data\": NFNet-F6's maps of the ImageNet-1k train split), " +
        $"unpack it so that {Path.Combine(folder, "n01440764", "n01440764_10026.pt")} exists, and point REPRODUCE_TOKEN_LABELS (or \"token-labels\" in data-roots.json) at it";

    /// <summary>Checks <paramref name="labelRoot"/> against the <c>train</c> split of the ImageNet tree at <paramref name="imagenetRoot"/>.</summary>
    public static DatasetReport Check(string labelRoot, string imagenetRoot, CheckOptions? options = null, OfficialLabelFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(labelRoot);
        ArgumentNullException.ThrowIfNull(imagenetRoot);
        var o = options ?? new CheckOptions();
        var f = format ?? new OfficialLabelFormat();
        var root = Path.GetFullPath(labelRoot);
        var notes = new List<string>();
        var problems = new List<DataProblem>();
        if (!Directory.Exists(root))
        {
            problems.Add(new DataProblem(root, "token-label folder not found; " + DownloadPlan(root)));
            return new DatasetReport(Dataset, root, [], [], notes, problems);
        }
        var trainDir = Path.Combine(Path.GetFullPath(imagenetRoot), "train");
        if (!Directory.Exists(trainDir))
        {
            problems.Add(new DataProblem(trainDir, "ImageNet train folder not found (the labels are checked against its images)"));
            return new DatasetReport(Dataset, root, [], [], notes, problems);
        }
        var images = new ImageNetFolder(imagenetRoot, "train");
        if (images.Problems.Count > 0) notes.Add($"the ImageNet train tree has {images.Problems.Count} layout problem(s) (`reproduce data check imagenet`)");
        var labels = new OfficialTokenLabels(root);

        // Names: each image's file, and files that belong to no image.
        var expected = new HashSet<string>(StringComparer.Ordinal);
        var present = new List<string>();
        for (var i = 0; i < images.Count; i++)
        {
            var file = labels.PathOf(images.KeyOf(i));
            expected.Add(file);
            if (File.Exists(file)) present.Add(file);
            else problems.Add(new DataProblem(file, $"missing: no map for training image {images[i].Path}"));
        }
        var files = Directory.EnumerateFiles(root, "*.pt", SearchOption.AllDirectories).Select(Path.GetFullPath).Order(StringComparer.Ordinal).ToList();
        foreach (var extra in files.Where(p => !expected.Contains(p)))
            problems.Add(new DataProblem(extra, $"no training image of this name under {trainDir}"));

        // Contents of the first Limit present files, in image order.
        var n = Math.Min(present.Count, Math.Max(0, o.Limit));
        var found = new DataProblem?[n];
        var classes = images.Classes.Count;
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, o.Threads) }, i => found[i] = CheckFile(present[i], f, classes));
        problems.AddRange(found.OfType<DataProblem>());

        var split = new SplitReport("train", present.Count, n,
        [
            ("training images", Str(images.Count)),
            ("label files", Str(files.Count)),
            ("images with a label file", $"{Str(present.Count)} of {Str(images.Count)}"),
            ("expected per file", f.ToString()),
        ]);
        return new DatasetReport(Dataset, root, [split], images.Classes, notes, problems);
    }

    /// <summary>The problem with one label file, or null: one fp16 tensor of the format, sorted finite scores, distinct indices in [0, classes).</summary>
    public static DataProblem? CheckFile(string path, OfficialLabelFormat format, int classes)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(format);
        using var scope = Scope.Enter();
        Tensor[] tensors;
        try
        {
            tensors = TorchPickle.LoadTensors(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return DataProblem.FromException(path, e);
        }
        if (tensors.Length != 1) return new DataProblem(path, $"expected one tensor {format}, found {tensors.Length}");
        var t = tensors[0];
        long[] want = [2, format.TopK, format.Side, format.Side];
        if (!t.Shape.SequenceEqual(want) || t.DType != ScalarType.Float16)
            return new DataProblem(path, $"expected {format} (scores, indices), got {t.Describe()}");
        var values = t.Select(0, 0).To(ScalarType.Float32);
        var rawIdx = t.Select(0, 1).To(ScalarType.Float32);
        if (values.IsFinite().All().ToInt64() == 0) return new DataProblem(path, "plane 0 (scores) holds non-finite values");
        if (format.TopK > 1 && values.Narrow(0, 0, format.TopK - 1).Lt(values.Narrow(0, 1, format.TopK - 1)).Any().ToInt64() != 0)
            return new DataProblem(path, "plane 0 (scores) is not sorted in descending order along k, as topk writes it");
        var idx = rawIdx.Round();
        if (rawIdx.Ne(idx).Any().ToInt64() != 0 || idx.Min().ToDouble() < 0)
            return new DataProblem(path, "plane 1 must hold non-negative integer class indices");
        var top = (long)idx.Max().ToDouble();
        if (top >= classes) return new DataProblem(path, $"class index {top} beyond the {classes} classes of the ImageNet train tree");
        var sorted = idx.Sort(0).Values;
        if (format.TopK > 1 && sorted.Narrow(0, 0, format.TopK - 1).Eq(sorted.Narrow(0, 1, format.TopK - 1)).Any().ToInt64() != 0)
            return new DataProblem(path, "plane 1 repeats a class index at some location (top-k indices are distinct)");
        return null;
    }

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);
}
