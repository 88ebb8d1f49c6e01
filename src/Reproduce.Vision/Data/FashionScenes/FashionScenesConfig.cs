using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Reproduce.Vision.Data.FashionScenes;

/// <summary>
/// Everything a fashion-scenes tree depends on. Equal configs give byte-identical trees; the cache folder
/// name is derived from <see cref="Hash"/>, which also covers <see cref="FashionScenes.FormatVersion"/>.
/// </summary>
public sealed record FashionScenesConfig
{
    /// <summary>Seed of every random choice (scene layouts, items, colours).</summary>
    public int Seed { get; init; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; init; } = 96;

    /// <summary>Image width in pixels.</summary>
    public int Width { get; init; } = 128;

    /// <summary>Scenes in the train split (built from Fashion-MNIST train items).</summary>
    public int TrainCount { get; init; } = 2000;

    /// <summary>Scenes in the test split (built from Fashion-MNIST test items).</summary>
    public int TestCount { get; init; } = 500;

    /// <summary>Fewest items per scene.</summary>
    public int MinItems { get; init; } = 2;

    /// <summary>Most items per scene.</summary>
    public int MaxItems { get; init; } = 6;

    /// <summary>The KITTI stand-in keeps every this-many-th row (a scan line), starting at row 0.</summary>
    public int ScanlineStep { get; init; } = 4;

    /// <summary>The KITTI stand-in's range cap in metres: farther points are invalid (0).</summary>
    public double SparseMaxDepth { get; init; } = 8.0;

    /// <summary>JPEG quality of the RGB images written for the ADE20K and NYUv2 layouts (KITTI's are PNG).</summary>
    public int JpegQuality { get; init; } = 95;

    /// <summary>Throws on values that cannot make a tree.</summary>
    public FashionScenesConfig Validate()
    {
        static void Need(bool ok, string what)
        {
            if (!ok) throw new ArgumentException($"fashion-scenes config: {what}");
        }
        Need(Height >= 16 && Width >= 16 && Height <= 4096 && Width <= 4096, $"size {Height}×{Width} must be within 16..4096 per side");
        Need(TrainCount >= 0 && TestCount >= 0 && TrainCount + TestCount > 0, "scene counts must be ≥ 0 and not both 0");
        Need(MinItems >= 0 && MaxItems >= MinItems && MaxItems <= 64, $"items per scene {MinItems}..{MaxItems} must satisfy 0 ≤ min ≤ max ≤ 64");
        Need(ScanlineStep >= 1, "scan-line step must be ≥ 1");
        Need(SparseMaxDepth > 0 && SparseMaxDepth <= 255, "sparse range cap must be in (0, 255] metres (uint16 / 256)");
        Need(JpegQuality is >= 1 and <= 100, "JPEG quality must be in 1..100");
        return this;
    }

    /// <summary>A short stable hash of the config and the format version (12 hex digits).</summary>
    public string Hash()
    {
        var json = JsonSerializer.Serialize(this) + $"|v{FashionScenes.FormatVersion}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..12];
    }
}
