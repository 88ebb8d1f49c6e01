using PureHDF;

namespace Reproduce.Vision.Data.Datasets;

/// <summary>
/// NYUv2's official train/test split (<c>splits.mat</c>: the 1-based column vectors <c>trainNdxs</c>, 795
/// frames, and <c>testNdxs</c>, the 654 Eigen test frames, into the 1,449 frames of the labeled .mat;
/// docs/protocols.md §3.1). The official file is a MATLAB v5 MAT-file (read by <see cref="MatV5"/>); the
/// same variables saved as v7.3 (HDF5, e.g. by <c>save -v7.3</c>) are read too.
/// </summary>
/// <param name="Train">0-based frame indices of trainNdxs, in file order.</param>
/// <param name="Test">0-based frame indices of testNdxs, in file order.</param>
public sealed record NyuOfficialSplits(int[] Train, int[] Test)
{
    /// <summary>The file name the split ships under.</summary>
    public const string FileName = "splits.mat";

    /// <summary>0-based indices of <paramref name="split"/> ("train" or "test").</summary>
    public int[] Indices(string split) => split switch
    {
        "train" => Train,
        "test" => Test,
        _ => throw new ArgumentException($"NYUv2 split must be 'train' or 'test', not '{split}'", nameof(split)),
    };

    /// <summary>
    /// Reads <paramref name="path"/> and checks the indices against a .mat of <paramref name="frames"/> frames:
    /// whole numbers in 1..frames, no repeats, the two splits disjoint.
    /// </summary>
    /// <exception cref="InvalidDataException">Unreadable file, a missing variable or a bad index; the message starts with the path.</exception>
    public static NyuOfficialSplits Read(string path, int frames)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: NYUv2 split file missing ({FileName} with trainNdxs/testNdxs)", path);
        var (train, test) = IsHdf5(path) ? ReadV73(path) : ReadV5(path);
        var splits = new NyuOfficialSplits(Check(path, "trainNdxs", train, frames), Check(path, "testNdxs", test, frames));
        var both = splits.Train.Intersect(splits.Test).Take(3).ToList();
        if (both.Count > 0) throw new InvalidDataException($"{path}: frames {string.Join(", ", both.Select(i => i + 1))} are in both trainNdxs and testNdxs");
        return splits;
    }

    /// <summary>MATLAB v7.3 files are HDF5 behind a 512-byte header (the HDF5 signature sits at 0, 512, 1024, …).</summary>
    internal static bool IsHdf5(string path)
    {
        ReadOnlySpan<byte> signature = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];
        using var f = File.OpenRead(path);
        var buffer = new byte[8];
        for (long at = 0; at + 8 <= f.Length && at <= 4096; at = at == 0 ? 512 : at * 2)
        {
            f.Position = at;
            f.ReadExactly(buffer);
            if (buffer.AsSpan().SequenceEqual(signature)) return true;
        }
        return false;
    }

    private static (double[] Train, double[] Test) ReadV5(string path)
    {
        var vars = MatV5.ReadNumeric(path);
        return (Vector("trainNdxs"), Vector("testNdxs"));

        double[] Vector(string name) => vars.TryGetValue(name, out var a)
            ? a.Values
            : throw new InvalidDataException($"{path}: no numeric variable '{name}' (found: {string.Join(", ", vars.Keys.Order(StringComparer.Ordinal))})");
    }

    private static (double[] Train, double[] Test) ReadV73(string path)
    {
        try
        {
            using var file = H5File.OpenRead(path);
            return (Vector("trainNdxs"), Vector("testNdxs"));

            double[] Vector(string name) => file.LinkExists(name)
                ? file.Dataset(name).Read<double[]>()
                : throw new InvalidDataException($"{path}: no dataset '{name}' in this MATLAB v7.3 (HDF5) file");
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            throw new InvalidDataException($"{path}: cannot read it as a MATLAB v7.3 (HDF5) file: {e.Message}", e);
        }
    }

    private static int[] Check(string path, string name, double[] values, int frames)
    {
        var seen = new HashSet<int>();
        var result = new int[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (v != Math.Floor(v) || v < 1 || v > frames)
                throw new InvalidDataException($"{path}: {name}[{i}] = {v} is not a frame number in 1..{frames} (the labeled .mat holds {frames} frames)");
            if (!seen.Add((int)v)) throw new InvalidDataException($"{path}: {name} lists frame {v} twice");
            result[i] = (int)v - 1;
        }
        return result;
    }
}
