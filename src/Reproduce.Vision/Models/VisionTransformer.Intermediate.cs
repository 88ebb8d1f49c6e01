using Reproduce.Torch;

namespace Reproduce.Vision.Models;

/// <summary>One block's output as dense features (see <see cref="VisionTransformer.GetIntermediateLayers(Tensor, IReadOnlyList{int}, bool)"/>).</summary>
/// <param name="Block">Index of the block the tokens come out of.</param>
/// <param name="Patches">Patch tokens on the grid, [B, D, H/p, W/p] (row-major token order).</param>
/// <param name="ClassToken">The class token [B, D], or null for a model without one.</param>
public sealed record IntermediateLayer(int Block, Tensor Patches, Tensor? ClassToken);

// Dense features for the linear/FCN probes: the tokens of chosen blocks, as DINOv2's and timm's get_intermediate_layers.
public sealed partial class VisionTransformer
{
    /// <summary>The outputs of the last <paramref name="n"/> blocks (DINOv2's <c>get_intermediate_layers(x, n)</c> with an int).</summary>
    public IntermediateLayer[] GetIntermediateLayers(Tensor images, int n, bool norm = false)
    {
        if (n < 1 || n > _blocks.Count)
            throw new ArgumentOutOfRangeException(nameof(n), $"VisionTransformer.GetIntermediateLayers: n = {n}, the model has {_blocks.Count} blocks");
        return GetIntermediateLayers(images, Enumerable.Range(_blocks.Count - n, n).ToArray(), norm);
    }

    /// <summary>
    /// The outputs of blocks <paramref name="blocks"/> (0-based, any order, returned in that order), as DINOv2's
    /// <c>get_intermediate_layers(x, n=[…], reshape=True, return_class_token=True, norm=…)</c>: patch tokens reshaped to
    /// the grid [B, D, h, w] and the class token [B, D]. With an Adaptive Noise Filter after a block, its output
    /// (what the next block receives) is returned. <paramref name="norm"/> applies the final norm (with its class path
    /// when specialized; nothing when the model pools through <c>fc_norm</c>). DINOv2 defaults to norm=True, but its
    /// depth probes pass norm=False, as does timm; so does this method by default. Register tokens are dropped.
    /// Runs only as many blocks as needed.
    /// </summary>
    public IntermediateLayer[] GetIntermediateLayers(Tensor images, IReadOnlyList<int> blocks, bool norm = false)
    {
        if (blocks.Count == 0) throw new ArgumentException("VisionTransformer.GetIntermediateLayers: no blocks requested");
        foreach (var b in blocks)
            if (b < 0 || b >= _blocks.Count)
                throw new ArgumentOutOfRangeException(nameof(blocks), $"VisionTransformer.GetIntermediateLayers: block {b} outside 0..{_blocks.Count - 1}");
        using var s = Scope.Enter();
        var grid = EmbedGrid(images);
        int h = (int)grid.Size(2), w = (int)grid.Size(3);
        var outputs = new Dictionary<int, Tensor>();
        var x = GridTokens(grid);
        var last = blocks.Max();
        for (var i = 0; i <= last; i++)
        {
            x = ForwardBlock(i, x, (h, w));
            if (blocks.Contains(i)) outputs[i] = x;
        }
        var result = new IntermediateLayer[blocks.Count];
        var prefix = NumPrefixTokens;
        for (var j = 0; j < blocks.Count; j++)
        {
            var tokens = outputs[blocks[j]];
            if (norm) tokens = ApplyNorm(tokens);
            var patches = tokens.Narrow(1, prefix, tokens.Size(1) - prefix);
            var map = s.MoveOut(patches.Reshape(patches.Size(0), h, w, patches.Size(2)).Permute(0, 3, 1, 2).Contiguous());
            var cls = Config.ClassToken ? s.MoveOut(tokens.Select(1, 0).Contiguous()) : null;
            result[j] = new IntermediateLayer(blocks[j], map, cls);
        }
        return result;
    }
}
