using System.Text.RegularExpressions;

namespace Reproduce.Vision.Data.Datasets;

/// <summary>What <see cref="DatasetChecker.Check"/> should do.</summary>
public sealed record CheckOptions
{
    /// <summary>Only this split (dataset spelling, e.g. "val", "validation", "test"); null: every split present.</summary>
    public string? Split { get; init; }

    /// <summary>Check at most this many samples per split (the layout scan always covers everything).</summary>
    public int Limit { get; init; } = int.MaxValue;

    /// <summary>Decode every checked sample (true) or read file headers only (false, much faster).</summary>
    public bool Decode { get; init; } = true;

    /// <summary>Parallel workers for the sample checks.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
}

/// <summary>Counts and facts of one split.</summary>
/// <param name="Name">Split name as the dataset spells it.</param>
/// <param name="Samples">Samples that passed the layout scan.</param>
/// <param name="Checked">Samples checked (≤ Samples, per <see cref="CheckOptions.Limit"/>).</param>
/// <param name="Facts">Further counts, e.g. ("lines", "697"), ("without ground truth", "45").</param>
public sealed record SplitReport(string Name, int Samples, int Checked, IReadOnlyList<(string Key, string Value)> Facts);

/// <summary>The result of checking a dataset tree.</summary>
/// <param name="Dataset">Dataset kind checked.</param>
/// <param name="Root">The root given.</param>
/// <param name="Splits">Per-split counts.</param>
/// <param name="Classes">Class names (empty for depth datasets).</param>
/// <param name="Notes">Observations that are not errors (e.g. a class count other than the paper's).</param>
/// <param name="Problems">Every problem found, layout problems first, then per sample in order.</param>
public sealed record DatasetReport(string Dataset, string Root, IReadOnlyList<SplitReport> Splits, IReadOnlyList<string> Classes,
    IReadOnlyList<string> Notes, IReadOnlyList<DataProblem> Problems)
{
    /// <summary>True when no problem was found.</summary>
    public bool Ok => Problems.Count == 0;
}

/// <summary>
/// Validates a dataset tree in its real layout (what <c>reproduce data check</c> runs): scans every split,
/// then checks each sample (decoding it, or from headers), and reports counts, classes and problems, each
/// naming its file (and line for split files).
/// </summary>
public static partial class DatasetChecker
{
    /// <summary>Dataset kinds understood by <see cref="Check"/>.</summary>
    public static readonly IReadOnlyList<string> Datasets = ["imagenet", "ade20k", "nyu", "kitti"];

    /// <summary>Checks <paramref name="root"/> as a <paramref name="dataset"/> tree (one of <see cref="Datasets"/>).</summary>
    public static DatasetReport Check(string dataset, string root, CheckOptions? options = null)
    {
        var o = options ?? new CheckOptions();
        var fullRoot = Path.GetFullPath(root);
        var splits = new List<SplitReport>();
        var notes = new List<string>();
        var problems = new List<DataProblem>();
        IReadOnlyList<string> classes = [];
        if (!Directory.Exists(fullRoot))
        {
            problems.Add(new DataProblem(fullRoot, "dataset root folder not found"));
            return new DatasetReport(dataset, fullRoot, splits, classes, notes, problems);
        }

        switch (dataset)
        {
            case "imagenet":
            {
                IReadOnlyList<string>? trainClasses = null;
                foreach (var split in Pick(o, ["train", "val"]))
                {
                    if (!Directory.Exists(Path.Combine(fullRoot, split)))
                    {
                        Absent(split, Path.Combine(fullRoot, split), o, notes, problems);
                        continue;
                    }
                    var ds = new ImageNetFolder(fullRoot, split, trainClasses);
                    trainClasses ??= ds.Classes;
                    classes = trainClasses;
                    var present = ds.Classes.Count(c => Directory.Exists(Path.Combine(ds.SplitDir, c)));
                    splits.Add(Run(ds, o, problems, ("classes with a folder", present.ToString(System.Globalization.CultureInfo.InvariantCulture))));
                }
                if (classes.Count > 0 && classes.Count != 1000) notes.Add($"{classes.Count} classes (ImageNet-1k has 1000)");
                var odd = classes.Where(c => !Wnid().IsMatch(c)).Take(3).ToList();
                if (odd.Count > 0) notes.Add($"class folders not named like wnids (n + 8 digits), e.g. {string.Join(", ", odd)}");
                break;
            }
            case "ade20k":
                foreach (var split in Pick(o, ["training", "validation"]))
                {
                    var ds = TryOpen(() => new Ade20k(fullRoot, split), split, o, notes, problems);
                    if (ds is null) continue;
                    classes = ds.Classes;
                    splits.Add(Run(ds, o, problems));
                }
                if (classes.Count > 0 && classes.Count != 150) notes.Add($"{classes.Count} classes from {Ade20kClasses.ObjectInfoFile} (SceneParsing has 150)");
                break;
            case "nyu":
                foreach (var split in Pick(o, ["train", "test"]))
                {
                    var ds = TryOpen(() => NyuDepthV2.OpenAny(fullRoot, split), split, o, notes, problems);
                    if (ds is DepthDataset bts) splits.Add(RunDepth(bts, o, problems));
                    else if (ds is NyuLabeledMat mat)
                        splits.Add(Run(mat, o, problems, ("labeled .mat", mat.MatPath), ("split file", mat.SplitsPath)));
                }
                break;
            case "kitti":
                foreach (var split in Pick(o, ["train", "test"]))
                {
                    var ds = TryOpen(() => KittiDepth.Open(fullRoot, split), split, o, notes, problems);
                    if (ds is not null) splits.Add(RunDepth(ds, o, problems));
                }
                break;
            default:
                throw new ArgumentException($"unknown dataset '{dataset}' (known: {string.Join(", ", Datasets)})", nameof(dataset));
        }
        if (splits.Count == 0 && problems.Count == 0)
            problems.Add(new DataProblem(fullRoot, $"no {dataset} split found (see docs/protocols.md for the layout)"));
        return new DatasetReport(dataset, fullRoot, splits, classes, notes, problems);
    }

    /// <summary>Checks the first <see cref="CheckOptions.Limit"/> samples in parallel; problems keep sample order.</summary>
    public static SplitReport Run<T>(IImageDataset<T> ds, CheckOptions o, List<DataProblem> problems, params (string, string)[] facts)
        where T : IDisposable
    {
        problems.AddRange(ds.Problems);
        var n = Math.Min(ds.Count, Math.Max(0, o.Limit));
        var found = new DataProblem?[n];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, o.Threads) }, i => found[i] = ds.Check(i, o.Decode));
        problems.AddRange(found.OfType<DataProblem>());
        return new SplitReport(ds.Name[(ds.Name.IndexOf('/') + 1)..], ds.Count, n, facts);
    }

    private static SplitReport RunDepth(DepthDataset ds, CheckOptions o, List<DataProblem> problems) =>
        Run(ds, o, problems, ("split file", ds.SplitFile), ("lines", Str(ds.Lines)), ("without ground truth (None)", Str(ds.WithoutGroundTruth)));

    private static string Str(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static IEnumerable<string> Pick(CheckOptions o, string[] all)
    {
        if (o.Split is null) return all;
        var s = o.Split switch { "train" when all[0] == "training" => "training", "val" when all[1] == "validation" => "validation", var x => x };
        if (!all.Contains(s)) throw new ArgumentException($"unknown split '{o.Split}' (known: {string.Join(", ", all)})");
        return [s];
    }

    private static T? TryOpen<T>(Func<T> open, string split, CheckOptions o, List<string> notes, List<DataProblem> problems) where T : class
    {
        try
        {
            return open();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            var path = e is FileNotFoundException f && f.FileName is { } p ? p : e.Message.Split(": ")[0];
            Absent(split, path, o, notes, problems);
            return null;
        }
    }

    private static void Absent(string split, string path, CheckOptions o, List<string> notes, List<DataProblem> problems)
    {
        if (o.Split is not null) problems.Add(new DataProblem(path, $"split '{split}' not found"));
        else notes.Add($"split '{split}' not present ({path})");
    }

    [GeneratedRegex("^n[0-9]{8}$")]
    private static partial Regex Wnid();
}
