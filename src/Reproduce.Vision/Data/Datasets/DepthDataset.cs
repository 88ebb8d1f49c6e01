using Reproduce.Torch;
using Reproduce.Torch.IO;

namespace Reproduce.Vision.Data.Datasets;

/// <summary>
/// A depth dataset read through a BTS split file: RGB images (JPEG or PNG) with uint16 PNG depth maps,
/// metres = value / <see cref="DepthConvention.DepthScale"/>, 0 = no measurement. Lines whose image or depth
/// file is missing, or whose fields are malformed or mismatched, are reported in <see cref="Problems"/>;
/// lines with depth <c>None</c> are counted in <see cref="WithoutGroundTruth"/>. Build it through
/// <see cref="NyuDepthV2"/> or <see cref="KittiDepth"/>.
/// </summary>
public sealed class DepthDataset : IImageDataset<DepthSample>
{
    private readonly List<(string Image, string Depth, double Focal, int Line)> _samples = [];
    private readonly List<DataProblem> _problems = [];

    /// <summary>Reads <paramref name="splitFile"/>; image paths resolve against <paramref name="imageRoot"/>, depth paths against <paramref name="depthRoot"/>.</summary>
    public DepthDataset(DepthConvention convention, string split, string splitFile, string imageRoot, string depthRoot)
    {
        Convention = convention;
        Split = split;
        SplitFile = Path.GetFullPath(splitFile);
        ImageRoot = Path.GetFullPath(imageRoot);
        DepthRoot = Path.GetFullPath(depthRoot);
        var parsed = DepthSplitFile.Parse(SplitFile, convention.PairMismatch);
        _problems.AddRange(parsed.Problems);
        WithoutGroundTruth = parsed.WithoutGroundTruth;
        Lines = parsed.Entries.Count + parsed.WithoutGroundTruth + parsed.Problems.Count;
        foreach (var e in parsed.Entries)
        {
            var image = Path.Combine(ImageRoot, e.Image);
            var candidates = convention.DepthCandidates(DepthRoot, e.Depth);
            var depth = candidates.FirstOrDefault(File.Exists);
            if (!File.Exists(image)) _problems.Add(new DataProblem(image, $"image file missing (split file {SplitFile} line {e.Line})"));
            else if (depth is null) _problems.Add(new DataProblem(candidates[0], $"depth file missing (split file {SplitFile} line {e.Line})"));
            else _samples.Add((image, depth, e.Focal, e.Line));
        }
    }

    /// <summary>The dataset's storage conventions.</summary>
    public DepthConvention Convention { get; }

    /// <summary>Split name, e.g. "train" or "test".</summary>
    public string Split { get; }

    /// <summary>The split file read.</summary>
    public string SplitFile { get; }

    /// <summary>Root of the image paths.</summary>
    public string ImageRoot { get; }

    /// <summary>Root of the depth paths.</summary>
    public string DepthRoot { get; }

    /// <summary>Non-empty lines in the split file.</summary>
    public int Lines { get; }

    /// <summary>Lines whose depth field is <c>None</c> (no ground truth; left out).</summary>
    public int WithoutGroundTruth { get; }

    /// <inheritdoc/>
    public string Name => $"{Convention.Name}/{Split}";

    /// <inheritdoc/>
    public int Count => _samples.Count;

    /// <inheritdoc/>
    public IReadOnlyList<DataProblem> Problems => _problems;

    /// <summary>Files, focal length and split-file line of sample <paramref name="index"/>.</summary>
    public (string Image, string Depth, double Focal, int Line) this[int index] => _samples[index];

    /// <inheritdoc/>
    public DepthSample Load(int index)
    {
        var (imagePath, depthPath, focal, _) = _samples[index];
        using var scope = Scope.Enter();
        var image = ImageCodec.DecodeFile(imagePath, ImageReadMode.Rgb, ImageLayout.Chw);
        var raw = ImageCodec.DecodeFile(depthPath, ImageReadMode.Unchanged, ImageLayout.Hwc);
        if (raw.DType != ScalarType.Int32 || raw.Size(2) != 1)
            throw new InvalidDataException(
                $"{depthPath}: depth must be a single-channel 16-bit PNG, got {raw.Size(2)} channel(s) of {(raw.DType == ScalarType.Int32 ? 16 : 8)} bits");
        var (h, w) = ((int)raw.Size(0), (int)raw.Size(1));
        if (image.Size(1) != h || image.Size(2) != w)
            throw new InvalidDataException($"{depthPath}: depth is {h}×{w} but its image {imagePath} is {image.Size(1)}×{image.Size(2)}");
        var stored = raw.Squeeze(2);
        if (Convention.Crop is { } crop)
        {
            var c = crop(h, w);
            if (c.Top < 0 || c.Left < 0 || c.Top + c.Height > h || c.Left + c.Width > w)
                throw new InvalidDataException($"{imagePath}: image is {h}×{w}, smaller than the {c.Height}×{c.Width} {Convention.Name} crop");
            image = image.Narrow(1, c.Top, c.Height).Narrow(2, c.Left, c.Width).Contiguous();
            stored = stored.Narrow(0, c.Top, c.Height).Narrow(1, c.Left, c.Width);
        }
        var depth = stored.To(ScalarType.Float32).Div(Convention.DepthScale).Contiguous();
        var valid = stored.Gt(0.0).Contiguous();
        return new DepthSample(scope.MoveOut(image), scope.MoveOut(depth), scope.MoveOut(valid), focal, imagePath, depthPath);
    }

    /// <inheritdoc/>
    public DataProblem? Check(int index, bool decode = true)
    {
        var (imagePath, depthPath, _, _) = _samples[index];
        return PairedFileCheck.Run(imagePath, depthPath, "depth", 16, decode, () => Load(index).Dispose(), image =>
        {
            if (Convention.Crop is not { } crop) return null;
            var c = crop(image.Height, image.Width);
            return c.Top < 0 || c.Left < 0 || c.Top + c.Height > image.Height || c.Left + c.Width > image.Width
                ? new DataProblem(imagePath, $"image is {image.Height}×{image.Width}, smaller than the {c.Height}×{c.Width} {Convention.Name} crop")
                : null;
        });
    }
}
