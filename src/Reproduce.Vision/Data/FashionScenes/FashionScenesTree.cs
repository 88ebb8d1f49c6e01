using System.Text.Json;
using Reproduce.Vision.Data.Datasets;

namespace Reproduce.Vision.Data.FashionScenes;

/// <summary>A generated fashion-scenes folder, with the real readers opened on its three layouts.</summary>
/// <param name="Root">The folder (fashion-scenes-&lt;hash&gt;).</param>
/// <param name="Config">The config it was generated from.</param>
public sealed record FashionScenesTree(string Root, FashionScenesConfig Config)
{
    /// <summary>Opens a generated folder, reading the config.json written with it.</summary>
    public static FashionScenesTree Open(string root)
    {
        var full = Path.GetFullPath(root);
        var path = Path.Combine(full, "config.json");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: not found; {full} is not a fashion-scenes folder (make one with `reproduce data scenes`)", path);
        try
        {
            var config = JsonSerializer.Deserialize<FashionScenesConfig>(File.ReadAllText(path))
                ?? throw new InvalidDataException($"{path}: empty config");
            return new FashionScenesTree(full, config.Validate());
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: not a valid fashion-scenes config ({e.Message})", e);
        }
    }

    /// <summary>The ADEChallengeData2016 folder.</summary>
    public string AdeRoot => Path.Combine(Root, "ADEChallengeData2016");

    /// <summary>The NYUv2 (BTS layout) folder.</summary>
    public string NyuRoot => Path.Combine(Root, "nyu");

    /// <summary>The KITTI (BTS layout) folder.</summary>
    public string KittiRoot => Path.Combine(Root, "kitti");

    /// <summary>Segmentation (ADE20K stand-in): split "train" or "test" (= training / validation).</summary>
    public Ade20k Segmentation(string split) => new(AdeRoot, split == "test" ? "validation" : split);

    /// <summary>Dense depth (NYUv2 stand-in): split "train" or "test".</summary>
    public DepthDataset DenseDepth(string split) => NyuDepthV2.Open(NyuRoot, split);

    /// <summary>Sparse depth (KITTI stand-in): split "train" or "test"; no KB crop (the frames are small).</summary>
    public DepthDataset SparseDepth(string split) => KittiDepth.Open(KittiRoot, split);
}
