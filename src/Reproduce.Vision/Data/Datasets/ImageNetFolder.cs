using Reproduce.Torch;
using Reproduce.Torch.IO;

namespace Reproduce.Vision.Data.Datasets;

/// <summary>
/// ImageNet in the class-folder layout torchvision's <c>ImageFolder</c>, timm, DeiT and LV-ViT read
/// (docs/protocols.md §1.1–1.2): <c>ROOT/train/&lt;wnid&gt;/*.JPEG</c> and <c>ROOT/val/&lt;wnid&gt;/*.JPEG</c>.
/// Class indices follow the sub-folder names sorted by code point (n01440764 → 0); samples are listed
/// class by class with file names sorted the same way. Images decode to RGB (gray and CMYK JPEGs are
/// converted, PNG files named .JPEG are recognised by their signature), as PIL's <c>convert("RGB")</c>.
/// </summary>
public sealed class ImageNetFolder : IImageDataset<ClassificationSample>
{
    /// <summary>File extensions taken as images (case-insensitive), a subset of torchvision's IMG_EXTENSIONS.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".jpeg", ".jpg", ".png"];

    private readonly List<(string Path, int Label)> _samples = [];
    private readonly List<DataProblem> _problems = [];

    /// <summary>
    /// Scans <c>root/split</c>. With <paramref name="classes"/> (e.g. the train split's list for val), indices
    /// follow that list and folders outside it are problems; otherwise the folders found define the classes.
    /// <paramref name="decodeMinSide"/> &gt; 0 lets JPEGs decode in the DCT domain to the smallest size whose
    /// shorter side is still ≥ it (use the eval transform's resize size).
    /// </summary>
    public ImageNetFolder(string root, string split = "train", IReadOnlyList<string>? classes = null, int decodeMinSide = 0)
    {
        if (decodeMinSide < 0) throw new ArgumentOutOfRangeException(nameof(decodeMinSide), decodeMinSide, "must be ≥ 0");
        Root = Path.GetFullPath(root);
        Split = split;
        DecodeMinSide = decodeMinSide;
        SplitDir = Path.Combine(Root, split);
        if (!Directory.Exists(SplitDir))
            throw new DirectoryNotFoundException($"{SplitDir}: ImageNet split folder not found (expected ROOT/{split}/<wnid>/*.JPEG)");

        var folders = Directory.GetDirectories(SplitDir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        Classes = classes?.ToList() ?? folders;
        var index = Classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);

        var loose = Directory.GetFiles(SplitDir).Order(StringComparer.Ordinal).ToList();
        foreach (var f in loose)
            _problems.Add(new DataProblem(f, IsImage(f)
                ? "image outside a class folder (val images must first be moved into per-wnid folders, docs/protocols.md §1.1)"
                : "unexpected file in the split folder"));

        foreach (var folder in folders)
        {
            var dir = Path.Combine(SplitDir, folder);
            if (!index.TryGetValue(folder, out var label))
            {
                _problems.Add(new DataProblem(dir, $"class folder '{folder}' is not one of the {Classes.Count} given classes"));
                continue;
            }
            var files = Directory.GetFiles(dir).Order(StringComparer.Ordinal).ToList();
            foreach (var sub in Directory.GetDirectories(dir).Order(StringComparer.Ordinal))
                _problems.Add(new DataProblem(sub, "unexpected folder inside a class folder"));
            var images = 0;
            foreach (var f in files)
            {
                if (IsImage(f))
                {
                    _samples.Add((f, label));
                    images++;
                }
                else _problems.Add(new DataProblem(f, $"not an image file (expected one of {string.Join(", ", Extensions)})"));
            }
            if (images == 0) _problems.Add(new DataProblem(dir, "class folder holds no images"));
        }
        foreach (var c in Classes.Where(c => !folders.Contains(c)))
            _problems.Add(new DataProblem(Path.Combine(SplitDir, c), "class folder is missing"));
    }

    /// <summary>The dataset root (holding train/ and val/).</summary>
    public string Root { get; }

    /// <summary>The split folder's name.</summary>
    public string Split { get; }

    /// <summary><c>Root/Split</c>.</summary>
    public string SplitDir { get; }

    /// <summary>Minimum shorter side for DCT-domain downscaled decoding (0: full size).</summary>
    public int DecodeMinSide { get; }

    /// <summary>Class names (wnids) in index order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <inheritdoc/>
    public string Name => $"imagenet/{Split}";

    /// <inheritdoc/>
    public int Count => _samples.Count;

    /// <inheritdoc/>
    public IReadOnlyList<DataProblem> Problems => _problems;

    /// <summary>Image file and class index of sample <paramref name="index"/>.</summary>
    public (string Path, int Label) this[int index] => _samples[index];

    /// <summary>
    /// The token-label key of sample <paramref name="index"/> (<see cref="TokenLabels.ITokenLabelSource"/>): its path
    /// relative to <see cref="SplitDir"/> without the extension, '/'-separated, e.g. <c>n01440764/n01440764_10026</c>.
    /// </summary>
    public string KeyOf(int index)
    {
        var rel = Path.GetRelativePath(SplitDir, _samples[index].Path).Replace('\\', '/');
        return rel[..^Path.GetExtension(rel).Length];
    }

    /// <inheritdoc/>
    public ClassificationSample Load(int index)
    {
        var (path, label) = _samples[index];
        var image = ImageCodec.DecodeFile(path, ImageReadMode.Rgb, ImageLayout.Chw, DecodeMinSide, DecodeMinSide);
        return new ClassificationSample(image, label, path);
    }

    /// <inheritdoc/>
    public DataProblem? Check(int index, bool decode = true)
    {
        var path = _samples[index].Path;
        try
        {
            if (decode)
            {
                using var scope = Scope.Enter();
                Load(index).Dispose();
            }
            else ImageCodec.ReadInfo(path);
            return null;
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return DataProblem.FromException(path, e);
        }
    }

    private static bool IsImage(string path) =>
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);
}
