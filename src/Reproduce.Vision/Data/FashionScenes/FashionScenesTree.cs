using Reproduce.Vision.Data.Datasets;

namespace Reproduce.Vision.Data.FashionScenes;

/// <summary>A generated fashion-scenes folder, with the real readers opened on its three layouts.</summary>
/// <param name="Root">The folder (fashion-scenes-&lt;hash&gt;).</param>
/// <param name="Config">The config it was generated from.</param>
public sealed record FashionScenesTree(string Root, FashionScenesConfig Config)
{
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
