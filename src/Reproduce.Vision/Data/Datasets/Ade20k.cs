using Reproduce.Torch;
using Reproduce.Torch.IO;

namespace Reproduce.Vision.Data.Datasets;

/// <summary>
/// ADE20K SceneParsing in the devkit layout (docs/protocols.md §2): <c>ADEChallengeData2016/images/{training,validation}/*.jpg</c>
/// with <c>annotations/{training,validation}/&lt;same stem&gt;.png</c>, single-channel 8-bit label maps holding
/// 0 ("other", not evaluated) and 1..C. mmseg's <c>reduce_zero_label</c> turns them into 0..C−1 with 0 → 255
/// (ignore). Class names come from <c>objectInfo150.txt</c> when the root has one (so a tree with fewer
/// classes, such as the fashion-scenes stand-in, carries its own), else mmseg's 150 names.
/// </summary>
public sealed class Ade20k : IImageDataset<SegmentationSample>
{
    private readonly List<(string Image, string Label)> _samples = [];
    private readonly List<DataProblem> _problems = [];

    /// <summary>
    /// Scans <paramref name="root"/> (the ADEChallengeData2016 folder, or a folder holding it) for
    /// <paramref name="split"/> ("training" or "validation"; "train" and "val" are accepted).
    /// </summary>
    public Ade20k(string root, string split = "training", bool reduceZeroLabel = true)
    {
        var full = Path.GetFullPath(root);
        if (!Directory.Exists(Path.Combine(full, "images")) && Directory.Exists(Path.Combine(full, "ADEChallengeData2016", "images")))
            full = Path.Combine(full, "ADEChallengeData2016");
        Root = full;
        Split = split switch
        {
            "training" or "train" => "training",
            "validation" or "val" => "validation",
            _ => throw new ArgumentException($"ADE20K split must be 'training' or 'validation', not '{split}'", nameof(split)),
        };
        ReduceZeroLabel = reduceZeroLabel;
        ImageDir = Path.Combine(Root, "images", Split);
        LabelDir = Path.Combine(Root, "annotations", Split);
        if (!Directory.Exists(ImageDir))
            throw new DirectoryNotFoundException($"{ImageDir}: ADE20K image folder not found (expected ADEChallengeData2016/images/{Split}/*.jpg)");

        var info = Path.Combine(Root, Ade20kClasses.ObjectInfoFile);
        if (File.Exists(info))
        {
            var (names, problems) = Ade20kClasses.ReadObjectInfo(info);
            Classes = names;
            _problems.AddRange(problems);
        }
        else Classes = Ade20kClasses.Names;

        if (!Directory.Exists(LabelDir))
        {
            _problems.Add(new DataProblem(LabelDir, "annotation folder is missing"));
            return;
        }
        var labels = Directory.GetFiles(LabelDir).ToHashSet(StringComparer.Ordinal);
        foreach (var image in Directory.GetFiles(ImageDir).Order(StringComparer.Ordinal))
        {
            var ext = Path.GetExtension(image);
            if (!ext.Equals(".jpg", StringComparison.OrdinalIgnoreCase) && !ext.Equals(".jpeg", StringComparison.OrdinalIgnoreCase))
            {
                _problems.Add(new DataProblem(image, "not a .jpg image"));
                continue;
            }
            var label = Path.Combine(LabelDir, Path.GetFileNameWithoutExtension(image) + ".png");
            if (labels.Remove(label)) _samples.Add((image, label));
            else _problems.Add(new DataProblem(label, $"annotation missing for {image}"));
        }
        foreach (var orphan in labels.Order(StringComparer.Ordinal))
            _problems.Add(new DataProblem(orphan, "annotation without an image"));
    }

    /// <summary>The ADEChallengeData2016 folder.</summary>
    public string Root { get; }

    /// <summary>"training" or "validation".</summary>
    public string Split { get; }

    /// <summary>images/&lt;split&gt;.</summary>
    public string ImageDir { get; }

    /// <summary>annotations/&lt;split&gt;.</summary>
    public string LabelDir { get; }

    /// <summary>Whether label maps are reduced (0 → 255, v → v − 1), as mmseg does for ADE20K.</summary>
    public bool ReduceZeroLabel { get; }

    /// <summary>Class names; stored labels run 0..Classes.Count (0 = other).</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <inheritdoc/>
    public string Name => $"ade20k/{Split}";

    /// <inheritdoc/>
    public int Count => _samples.Count;

    /// <inheritdoc/>
    public IReadOnlyList<DataProblem> Problems => _problems;

    /// <summary>Image and annotation file of sample <paramref name="index"/>.</summary>
    public (string Image, string Label) this[int index] => _samples[index];

    /// <inheritdoc/>
    public SegmentationSample Load(int index)
    {
        var (imagePath, labelPath) = _samples[index];
        using var scope = Scope.Enter();
        var image = ImageCodec.DecodeFile(imagePath, ImageReadMode.Rgb, ImageLayout.Chw);
        var raw = ImageCodec.DecodeFile(labelPath, ImageReadMode.Unchanged, ImageLayout.Hwc);
        if (raw.DType != ScalarType.UInt8 || raw.Size(2) != 1)
            throw new InvalidDataException($"{labelPath}: annotation must be a single-channel 8-bit PNG, got {Describe(raw)}");
        var (h, w) = (raw.Size(0), raw.Size(1));
        if (image.Size(1) != h || image.Size(2) != w)
            throw new InvalidDataException($"{labelPath}: annotation is {h}×{w} but its image {imagePath} is {image.Size(1)}×{image.Size(2)}");
        var values = raw.ToArray<byte>();
        var labels = new long[values.Length];
        int worst = -1, bad = 0, max = Classes.Count;
        for (var i = 0; i < values.Length; i++)
        {
            int v = values[i];
            if (v > max)
            {
                bad++;
                worst = Math.Max(worst, v);
            }
            labels[i] = !ReduceZeroLabel ? v : v == 0 ? SegmentationSample.IgnoreIndex : v - 1;
        }
        if (bad > 0)
            throw new InvalidDataException($"{labelPath}: label {worst} outside 0..{max} ({bad} pixels above {max}; {Classes.Count} classes)");
        var label = Tensor.From<long>(labels, [h, w]);
        return new SegmentationSample(scope.MoveOut(image), scope.MoveOut(label), imagePath, labelPath);
    }

    /// <inheritdoc/>
    public DataProblem? Check(int index, bool decode = true)
    {
        var (imagePath, labelPath) = _samples[index];
        return PairedFileCheck.Run(imagePath, labelPath, "annotation", 8, decode, () => Load(index).Dispose());
    }

    private static string Describe(Tensor raw) =>
        $"{raw.Size(2)} channel(s) of {(raw.DType == ScalarType.UInt8 ? 8 : 16)} bits";
}
