using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Heads;

namespace Reproduce.Training.Checkpoints.Released;

/// <summary>
/// The released dense-task heads, built to the shapes their files hold and loaded strictly (docs/released-weights.md):
/// <list type="bullet">
/// <item>DINOv2's ADE20K linear heads (mmseg checkpoints, <c>state_dict</c> → <c>decode_head.bn.*</c>,
/// <c>decode_head.conv_seg.*</c>; dinov2/eval/segmentation BNHead: BN + 1×1 conv over the resized, concatenated patch
/// maps) → <see cref="LinearSegmentationHead"/>; the BN width / D gives the number of blocks.</item>
/// <item>DINOv2's NYUv2 / KITTI linear and linear4 depth heads (<c>state_dict</c> → <c>decode_head.conv_depth.*</c>;
/// dinov2/hub/depth BNHead, classify=True, UD bins, linear norm, ×4 upsample) → <see cref="LinearDepthHead"/>; the conv's
/// input width / 2·D gives the number of blocks, its output the number of bins.</item>
/// <item>Token Labeling's ADE20K UperNet segmentors (<c>state_dict</c> → <c>backbone.side_layer{1..4}.*</c>,
/// <c>decode_head.*</c>, <c>auxiliary_head.*</c>; the other <c>backbone.*</c> keys are the ViT's, read by the backbone
/// loader) → <see cref="UperNetHead"/>, channel widths from the file.</item>
/// </list>
/// Keys of the file that belong to neither the head nor a known other part are errors; a mismatch names the file, the
/// key and both shapes.
/// </summary>
public static class HeadWeights
{
    /// <summary>
    /// The segmentation head of <paramref name="path"/> for <paramref name="blocks"/> patch maps of width
    /// <paramref name="embedDim"/>: the UperNet head when <paramref name="upernet"/>, else DINOv2's linear head. What the
    /// file holds besides the head (the backbone's keys, other entries) is added to <paramref name="ignored"/>.
    /// </summary>
    public static SegmentationDecodeHead Segmentation(string path, bool upernet, int embedDim, int blocks, Device device, List<string> ignored)
    {
        using var scope = Scope.Enter();
        var state = ReadWhole(path, ignored);
        var convSeg = Require(path, state, "decode_head.conv_seg.weight", 4);
        var classes = (int)convSeg.Size(0);
        if (upernet)
        {
            if (blocks != 4) throw new InvalidDataException($"head weights file '{path}': the UperNet head reads four blocks, probe.layers names {blocks}");
            var neck = (int)Require(path, state, "backbone.side_layer4.0.weight", 4).Size(0);
            var aux = state.TryGetValue("auxiliary_head.convs.0.conv.weight", out var a) ? (int)a.Size(0) : (int?)null;
            var options = new UperNetOptions((int)convSeg.Size(1), neck, aux ?? 1, aux is null ? 0 : 0.4);
            return Load(new UperNetHead(embedDim, classes, options, device), path, state, "",
                k => k.StartsWith("backbone.side_layer", StringComparison.Ordinal) || k.StartsWith("decode_head.", StringComparison.Ordinal)
                    || k.StartsWith("auxiliary_head.", StringComparison.Ordinal),
                k => k.StartsWith("backbone.", StringComparison.Ordinal), "UperNet", ignored);
        }
        var channels = Require(path, state, "decode_head.bn.weight", 1).Size(0);
        if (channels != (long)embedDim * blocks)
            throw new InvalidDataException(
                $"head weights file '{path}': decode_head.bn.weight has {channels} channels, but probe.layers names {blocks} block(s) of a {embedDim}-wide backbone ({(long)embedDim * blocks}); "
                + (channels % embedDim == 0 ? $"set probe.layers to {channels / embedDim} blocks" : "the head is for another backbone width"));
        return Load(new LinearSegmentationHead(Enumerable.Repeat(embedDim, blocks).ToArray(), classes, device: device), path, state, "decode_head.",
            k => k.StartsWith("decode_head.", StringComparison.Ordinal), k => k.StartsWith("backbone.", StringComparison.Ordinal), "linear segmentation", ignored);
    }

    /// <summary>
    /// The depth head of <paramref name="path"/> for <paramref name="blocks"/> (patch map, class token) pairs of width
    /// <paramref name="embedDim"/>, with bins over [<paramref name="minDepth"/>, <paramref name="maxDepth"/>].
    /// </summary>
    public static LinearDepthHead Depth(string path, int embedDim, int blocks, double minDepth, double maxDepth, Device device, List<string> ignored)
    {
        using var scope = Scope.Enter();
        var state = ReadWhole(path, ignored);
        var conv = Require(path, state, "decode_head.conv_depth.weight", 4);
        var width = 2L * embedDim * blocks;
        if (conv.Size(1) != width)
            throw new InvalidDataException(
                $"head weights file '{path}': decode_head.conv_depth.weight has {conv.Size(1)} input channels, but probe.layers names {blocks} block(s) of a {embedDim}-wide backbone (2·D·blocks = {width}); "
                + (conv.Size(1) % (2L * embedDim) == 0 ? $"set probe.layers to {conv.Size(1) / (2L * embedDim)} blocks (linear: the last; linear4: DINOv2's out_index)" : "the head is for another backbone width"));
        return Load(new LinearDepthHead(embedDim, blocks, minDepth, maxDepth, (int)conv.Size(0), device: device), path, state, "decode_head.",
            k => k.StartsWith("decode_head.", StringComparison.Ordinal), k => k.StartsWith("backbone.", StringComparison.Ordinal), "linear depth", ignored);
    }

    /// <summary>The tensors of <paramref name="path"/> under their keys in the file (only <c>module.</c> removed); what the reader set aside is added to <paramref name="ignored"/>.</summary>
    private static Dictionary<string, Tensor> ReadWhole(string path, List<string> ignored)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(ignored);
        var content = WeightsFile.Read(path, whole: true);
        ignored.AddRange(content.Ignored);
        return content.State;
    }

    private static Tensor Require(string path, Dictionary<string, Tensor> state, string key, int dims)
    {
        if (!state.TryGetValue(key, out var t))
            throw new InvalidDataException(
                $"head weights file '{path}' has no key '{key}' (it holds {string.Join(", ", state.Keys.Order(StringComparer.Ordinal).Take(8))}{(state.Count > 8 ? ", …" : "")}); is it the right head for this probe?");
        if (t.Dim != dims) throw new InvalidDataException($"head weights file '{path}': key '{key}' has shape {t.Describe()}, expected {dims} dimensions");
        return t;
    }

    // Loads the keys `owned` picks (minus `prefix`) into `head` strictly; keys `other` picks (the backbone's) are listed as
    // ignored; any other key is an error.
    private static T Load<T>(T head, string path, Dictionary<string, Tensor> state, string prefix, Func<string, bool> owned, Func<string, bool> other,
        string name, List<string> ignored) where T : Module
    {
        try
        {
            var stray = state.Keys.Where(k => !owned(k) && !other(k)).Order(StringComparer.Ordinal).ToList();
            if (stray.Count > 0)
                throw new InvalidDataException($"head weights file '{path}' holds keys that are neither the {name} head's nor the backbone's: {string.Join(", ", stray.Take(10))}{(stray.Count > 10 ? $" (and {stray.Count - 10} more)" : "")}");
            var mine = state.Where(kv => owned(kv.Key)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value, StringComparer.Ordinal);
            var problems = ModelWeights.Check(head, mine, allowExtra: false);
            if (problems.Count > 0) throw new InvalidDataException($"head weights file '{path}' does not fit the {name} head: {ModelWeights.Summarize(problems)}");
            head.LoadStateDict(mine, strict: true);
            var backbone = state.Keys.Count(k => !owned(k));
            if (backbone > 0) ignored.Add($"{backbone} backbone key(s) (read by the backbone's loader from model.weights)");
            return head;
        }
        catch
        {
            head.Dispose();
            throw;
        }
    }
}
