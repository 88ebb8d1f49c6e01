namespace Reproduce.Vision.Models.Heads;

/// <summary>Which backbone layers a DINOv2-style linear probe reads (DINOv2's "lin. 1" / "lin. 4").</summary>
public enum ProbeLayers
{
    /// <summary>The last block only.</summary>
    Lin1,
    /// <summary>Four blocks, concatenated (which four depends on the task: <see cref="ProbeLayerIndices"/>).</summary>
    Lin4,
}

/// <summary>Block indices (0-based) for <see cref="ProbeLayers"/>, per task (docs/protocols/dense-probes.md §5).</summary>
public static class ProbeLayerIndices
{
    /// <summary>
    /// Segmentation: lin1 = [depth−1]; lin4 = the last four blocks (the "+ms" boosted probe concatenates "the patch tokens
    /// of the 4 last layers"; third-party DINOv2 configs output blocks [8, 9, 10, 11] of ViT-B, docs/protocols/dense-probes.md §5.1).
    /// </summary>
    public static int[] Segmentation(ProbeLayers layers, int depth) => layers switch
    {
        ProbeLayers.Lin1 => [Require(depth, 1) - 1],
        ProbeLayers.Lin4 => Enumerable.Range(Require(depth, 4) - 4, 4).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(layers)),
    };

    /// <summary>
    /// Depth: lin1 = [depth−1]; lin4 = DINOv2's <c>out_index</c> (dinov2/hub/depthers.py): [2, 5, 8, 11] for 12 blocks,
    /// [4, 11, 17, 23] for 24, [9, 19, 29, 39] for 40; other depths get the evenly spaced k·depth/4 − 1, k = 1..4
    /// (which DINOv2's own 12- and 40-block lists follow; its 24-block list starts at 4, not 5).
    /// </summary>
    public static int[] Depth(ProbeLayers layers, int depth) => layers switch
    {
        ProbeLayers.Lin1 => [Require(depth, 1) - 1],
        ProbeLayers.Lin4 => Require(depth, 4) == 24 ? [4, 11, 17, 23] : Enumerable.Range(1, 4).Select(k => k * depth / 4 - 1).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(layers)),
    };

    private static int Require(int depth, int needed) =>
        depth >= needed ? depth : throw new ArgumentException($"ProbeLayerIndices: a {depth}-block backbone has fewer than {needed} blocks");
}
