using System.Globalization;

namespace Reproduce.Vision.Data.Datasets;

/// <summary>One usable line of a BTS-style split file.</summary>
/// <param name="Line">1-based line number.</param>
/// <param name="Image">Image path relative to the image root (leading '/' removed).</param>
/// <param name="Depth">Depth path relative to the depth root (leading '/' removed).</param>
/// <param name="Focal">Focal length in pixels.</param>
public sealed record DepthSplitEntry(int Line, string Image, string Depth, double Focal);

/// <summary>
/// BTS split files (docs/protocols.md §3.1, §4): one sample per line, <c>&lt;image&gt; &lt;depth&gt; &lt;focal&gt;</c>,
/// whitespace-separated. A depth field of <c>None</c> marks a frame without ground truth (KITTI's Eigen test
/// list has 45 of them); such lines are counted, not used. Extra trailing columns (as in AdaBins' test list)
/// are ignored. Malformed lines become problems with their line numbers.
/// </summary>
public static class DepthSplitFile
{
    /// <summary>The parsed file: usable entries, lines without ground truth, and malformed lines.</summary>
    public sealed record Parsed(IReadOnlyList<DepthSplitEntry> Entries, int WithoutGroundTruth, IReadOnlyList<DataProblem> Problems);

    /// <summary>
    /// Parses <paramref name="path"/>. <paramref name="pairMismatch"/> names why an image and a depth path do
    /// not belong together (e.g. different frame numbers), or returns null when they do.
    /// </summary>
    public static Parsed Parse(string path, Func<string, string, string?> pairMismatch)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: split file not found", path);
        var entries = new List<DepthSplitEntry>();
        var problems = new List<DataProblem>();
        var none = 0;
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = i + 1;
            var cols = lines[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (cols.Length == 0) continue;
            if (cols.Length < 3)
            {
                problems.Add(new DataProblem(path, $"expected '<image> <depth> <focal>', got {cols.Length} field(s): '{lines[i].Trim()}'", line));
                continue;
            }
            if (!double.TryParse(cols[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var focal) || !(focal > 0) || double.IsInfinity(focal))
            {
                problems.Add(new DataProblem(path, $"focal length '{cols[2]}' is not a positive number", line));
                continue;
            }
            if (cols[1] == "None")
            {
                none++;
                continue;
            }
            var image = cols[0].TrimStart('/');
            var depth = cols[1].TrimStart('/');
            if (pairMismatch(image, depth) is { } why)
            {
                problems.Add(new DataProblem(path, $"image '{image}' and depth '{depth}' do not match: {why}", line));
                continue;
            }
            entries.Add(new DepthSplitEntry(line, image, depth, focal));
        }
        return new Parsed(entries, none, problems);
    }

    /// <summary>The last run of digits in a file name's stem (the frame number), or null.</summary>
    internal static string? FrameNumber(string relPath)
    {
        var stem = Path.GetFileNameWithoutExtension(relPath);
        var end = stem.Length;
        while (end > 0 && !char.IsAsciiDigit(stem[end - 1])) end--;
        var start = end;
        while (start > 0 && char.IsAsciiDigit(stem[start - 1])) start--;
        return start < end ? stem[start..end] : null;
    }
}
