using Reproduce.Torch.IO;

namespace Reproduce.Training.Tests.Scoring;

/// <summary>Writes small hand-made label and depth PNGs for the scoring tests.</summary>
internal static class PngTree
{
    /// <summary>An 8-bit single-channel label PNG from a small matrix.</summary>
    public static void Labels(string path, byte[,] values)
    {
        var (h, w) = (values.GetLength(0), values.GetLength(1));
        var flat = new byte[h * w];
        for (var r = 0; r < h; r++)
            for (var c = 0; c < w; c++) flat[r * w + c] = values[r, c];
        Write(path, flat, h, w);
    }

    /// <summary>A 16-bit single-channel PNG of size <paramref name="h"/>×<paramref name="w"/>, zero except the given pixels.</summary>
    public static void Depth16(string path, int h, int w, params (int Row, int Col, int Value)[] pixels)
    {
        var flat = new int[h * w];
        foreach (var (r, c, v) in pixels) flat[r * w + c] = v;
        Write(path, flat, h, w);
    }

    private static void Write<T>(string path, T[] flat, int h, int w) where T : unmanaged
    {
        using var scope = Scope.Enter();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, ImageCodec.EncodePng(Tensor.From<T>(flat, [h, w])));
    }
}
