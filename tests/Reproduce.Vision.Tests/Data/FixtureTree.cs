using Reproduce.Torch.IO;

namespace Reproduce.Vision.Tests.Data;

/// <summary>A temporary folder with helpers that write small images in real dataset layouts; deleted on dispose.</summary>
internal sealed class FixtureTree : IDisposable
{
    public FixtureTree() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "tree-" + Guid.NewGuid().ToString("N"));

    public string this[string rel] => Path.Combine(Root, rel);

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>Deterministic RGB pixels [h,w,3]: smooth gradients, so JPEG keeps them close.</summary>
    public static byte[] Pixels(int h, int w, int seed)
    {
        var px = new byte[h * w * 3];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                for (var c = 0; c < 3; c++)
                    px[(y * w + x) * 3 + c] = (byte)(20 + seed * 7 % 30 + x * 120 * (c + 1) / (3 * w) + y * 60 * (3 - c) / (3 * h));
        return px;
    }

    /// <summary>Writes a JPEG (quality 98, 4:4:4) of <see cref="Pixels"/>; returns the pixels.</summary>
    public byte[] Jpeg(string rel, int h, int w, int seed)
    {
        using var scope = Scope.Enter();
        var px = Pixels(h, w, seed);
        ImageCodec.SaveJpeg(this[rel], Tensor.From<byte>(px, [h, w, 3]), 98, ChromaSubsampling.S444, ImageLayout.Hwc);
        return px;
    }

    /// <summary>Writes an RGB PNG of <see cref="Pixels"/>; returns the pixels.</summary>
    public byte[] RgbPng(string rel, int h, int w, int seed)
    {
        using var scope = Scope.Enter();
        var px = Pixels(h, w, seed);
        ImageCodec.SavePng(this[rel], Tensor.From<byte>(px, [h, w, 3]), layout: ImageLayout.Hwc);
        return px;
    }

    /// <summary>Writes an 8-bit PNG with <paramref name="channels"/> channels.</summary>
    public void Png8(string rel, byte[] values, int h, int w, int channels = 1)
    {
        using var scope = Scope.Enter();
        ImageCodec.SavePng(this[rel], Tensor.From<byte>(values, [h, w, channels]), layout: ImageLayout.Hwc);
    }

    /// <summary>Writes a 16-bit gray PNG.</summary>
    public void Png16(string rel, int[] values, int h, int w)
    {
        using var scope = Scope.Enter();
        ImageCodec.SavePng(this[rel], Tensor.From<int>(values, [h, w]));
    }

    public void Text(string rel, params string[] lines)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(this[rel])!);
        File.WriteAllLines(this[rel], lines);
    }

    /// <summary>Cuts a file to <paramref name="fraction"/> of its length (a truncated download).</summary>
    public void Truncate(string rel, double fraction = 0.6)
    {
        var bytes = File.ReadAllBytes(this[rel]);
        File.WriteAllBytes(this[rel], bytes[..(int)(bytes.Length * fraction)]);
    }

    public void Dir(string rel) => Directory.CreateDirectory(this[rel]);
}
