using PureHDF;
using PureHDF.Selections;
using PureHDF.VOL.Native;
using Reproduce.Torch;

namespace Reproduce.Vision.Data.Datasets;

/// <summary>
/// NYU Depth v2 read straight from the official <c>nyu_depth_v2_labeled.mat</c> (MATLAB v7.3, i.e. HDF5, read
/// with PureHDF) and <c>splits.mat</c> (<see cref="NyuOfficialSplits"/>): the "test" split is the 654 Eigen test
/// frames, "train" the 795 official training frames (not BTS's 24k-frame <c>sync</c> set). Each sample equals what
/// BTS's converter writes for that frame (docs/protocols.md §3.1; cleinc/bts,
/// utils/extract_official_train_test_set_from_mat.py), so scores match the BTS layout's:
/// <list type="bullet">
/// <item>RGB: the frame with everything outside rows 7..H−7 and columns 7..W−9 set to zero (rows 7:474, columns
/// 7:632 of 480×640), but without the JPEG round trip BTS's files went through;</item>
/// <item>depth: <c>rawDepths</c> (not the in-painted <c>depths</c>) stored as BTS does, uint16(float32(d · 1000))
/// truncated, then metres = stored / 1000 and valid = stored &gt; 0, exactly as <see cref="DepthDataset"/> reads
/// the PNGs;</item>
/// <item>focal 518.8579 px (BTS's lists).</item>
/// </list>
/// MATLAB stores arrays column-major, so HDF5 sees MATLAB's H×W×3×N <c>images</c> as [N,3,W,H] uint8 and H×W×N
/// <c>rawDepths</c> as [N,W,H] float32; samples are transposed back to [3,H,W] and [H,W].
/// <see cref="DepthSample.ImagePath"/> names the frame as <c>FILE#&lt;scene&gt;/rgb_%05d</c> (BTS's names, 0-based).
/// The file is opened per load, so loads may run on any number of threads.
/// </summary>
public sealed class NyuLabeledMat : IImageDataset<DepthSample>
{
    /// <summary>The official file name of the labeled set.</summary>
    public const string FileName = "nyu_depth_v2_labeled.mat";

    /// <summary>The focal length BTS's NYUv2 lists give every frame.</summary>
    public const double Focal = 518.8579;

    private readonly int[] _frames;
    private readonly string[] _scenes;
    private readonly int _height, _width;

    /// <summary>Opens <paramref name="matPath"/> with the split file <paramref name="splitsPath"/> and picks <paramref name="split"/>.</summary>
    /// <exception cref="FileNotFoundException">Either file is missing.</exception>
    /// <exception cref="InvalidDataException">A dataset is missing or has the wrong type or shape; the message starts with the file's path.</exception>
    public NyuLabeledMat(string matPath, string splitsPath, string split)
    {
        MatPath = Path.GetFullPath(matPath);
        if (!File.Exists(MatPath)) throw new FileNotFoundException($"{MatPath}: NYUv2 labeled .mat missing", MatPath);
        Split = split;
        int frames;
        (frames, _height, _width, _scenes) = Inspect(MatPath);
        SplitsPath = Path.GetFullPath(splitsPath);
        _frames = NyuOfficialSplits.Read(SplitsPath, frames).Indices(split);
    }

    /// <summary>The labeled .mat file.</summary>
    public string MatPath { get; }

    /// <summary>The split file.</summary>
    public string SplitsPath { get; }

    /// <summary>"train" or "test".</summary>
    public string Split { get; }

    /// <summary>0-based frame index in the .mat of sample <paramref name="index"/>.</summary>
    public int Frame(int index) => _frames[index];

    /// <inheritdoc/>
    public string Name => $"nyu/{Split}";

    /// <inheritdoc/>
    public int Count => _frames.Length;

    /// <inheritdoc/>
    public IReadOnlyList<DataProblem> Problems => [];

    /// <inheritdoc/>
    public DepthSample Load(int index)
    {
        var frame = _frames[index];
        var (h, w) = (_height, _width);
        byte[] rgb;
        float[] raw;
        try
        {
            using var file = H5File.OpenRead(MatPath);
            rgb = file.Dataset("images").Read<byte[]>(fileSelection: Slab(frame, 3, w, h));
            raw = file.Dataset("rawDepths").Read<float[]>(fileSelection: Slab(frame, w, h));
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            throw new InvalidDataException($"{MatPath}: frame {frame}: cannot read images/rawDepths: {e.Message}", e);
        }
        var image = new byte[3 * h * w];
        for (var c = 0; c < 3; c++)
            for (var y = 7; y < h - 6; y++)
                for (var x = 7; x < w - 8; x++)
                    image[(c * h + y) * w + x] = rgb[(c * w + x) * h + y];
        var stored = new int[h * w];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                stored[y * w + x] = Millimetres(raw[x * h + y]);
        using var scope = Scope.Enter();
        var storedT = Tensor.From(stored, [h, w]);
        var depth = storedT.To(ScalarType.Float32).Div(NyuDepthV2.DepthScale).Contiguous();
        var valid = storedT.Gt(0.0).Contiguous();
        var name = $"{MatPath}#{_scenes[frame]}/";
        return new DepthSample(scope.MoveOut(Tensor.From(image, [3, h, w])), scope.MoveOut(depth), scope.MoveOut(valid), Focal,
            $"{name}rgb_{frame:D5}", $"{name}sync_depth_{frame:D5}");
    }

    /// <inheritdoc/>
    public DataProblem? Check(int index, bool decode = true)
    {
        if (!decode) return null; // shapes and types were checked when the file was opened
        try
        {
            Load(index).Dispose();
            return null;
        }
        catch (InvalidDataException e)
        {
            return new DataProblem(MatPath, e.Message.StartsWith(MatPath + ": ", StringComparison.Ordinal) ? e.Message[(MatPath.Length + 2)..] : e.Message);
        }
    }

    /// <summary>BTS's <c>(depth * 1000.0).astype(np.uint16)</c> on float32: the float32 product, truncated.</summary>
    internal static int Millimetres(float metres)
    {
        var mm = metres * 1000f;
        return float.IsFinite(mm) && mm > 0 ? (int)Math.Min(mm, ushort.MaxValue) : 0;
    }

    private static HyperslabSelection Slab(int frame, params int[] rest) =>
        new(rest.Length + 1, [(ulong)frame, .. rest.Select(_ => 0UL)], [1UL, .. rest.Select(r => (ulong)r)]);

    private static (int Frames, int Height, int Width, string[] Scenes) Inspect(string path)
    {
        try
        {
            using var file = H5File.OpenRead(path);
            var images = Require(file, path, "images", H5DataTypeClass.FixedPoint, 1, 4);
            var depths = Require(file, path, "rawDepths", H5DataTypeClass.FloatingPoint, 4, 3);
            var (n, w, h) = (images[0], images[2], images[3]);
            if (images[1] != 3 || depths[0] != n || depths[1] != w || depths[2] != h)
                throw new InvalidDataException(
                    $"{path}: images is [{string.Join(", ", images)}] and rawDepths [{string.Join(", ", depths)}]; expected [N, 3, W, H] and [N, W, H] (MATLAB's H×W×3×N and H×W×N)");
            if (h <= 13 || w <= 15) throw new InvalidDataException($"{path}: frames of {h}×{w} are too small for the 7-pixel border");
            return ((int)n, (int)h, (int)w, Scenes(file, path, (int)n));
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            throw new InvalidDataException($"{path}: cannot read it as a MATLAB v7.3 (HDF5) file: {e.Message}", e);
        }
    }

    private static ulong[] Require(NativeFile file, string path, string name, H5DataTypeClass type, int size, int rank)
    {
        if (!file.LinkExists(name)) throw new InvalidDataException($"{path}: no dataset '{name}' (is this nyu_depth_v2_labeled.mat?)");
        var ds = file.Dataset(name);
        var dims = ds.Space.Dimensions;
        if (ds.Type.Class != type || ds.Type.Size != size || dims.Length != rank)
            throw new InvalidDataException(
                $"{path}: dataset '{name}' is {ds.Type.Class} of {ds.Type.Size} byte(s) with {dims.Length} dimensions; expected {type} of {size} byte(s) with {rank}");
        return dims;
    }

    /// <summary>The scene type of each frame (the cell <c>sceneTypes</c>: references to char arrays); "scene" where absent.</summary>
    private static string[] Scenes(NativeFile file, string path, int n)
    {
        var names = Enumerable.Repeat("scene", n).ToArray();
        if (!file.LinkExists("sceneTypes")) return names;
        var refs = file.Dataset("sceneTypes").Read<NativeObjectReference1[]>();
        if (refs.Length != n) throw new InvalidDataException($"{path}: sceneTypes has {refs.Length} entries for {n} frames");
        for (var i = 0; i < n; i++)
        {
            var chars = ((IH5Dataset)file.Get(refs[i])).Read<ushort[]>();
            names[i] = new string(chars.Select(c => (char)c).ToArray());
        }
        return names;
    }
}
