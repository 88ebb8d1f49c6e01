using Reproduce.Torch;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Vision.Data.Loading;

/// <summary>Standard collate functions turning transformed samples into a <see cref="TensorBatch"/>.</summary>
public static class Collate
{
    /// <summary>
    /// Classification: "image" [B,C,H,W] (stacked), "label" int64 [B], and, when every sample carries a
    /// token label and <paramref name="tokenTargets"/> is given, "token_target" [B, 1+N, C] aligned to
    /// each sample's crop and flip (row 0: crop-level target for the class token).
    /// </summary>
    public static TensorBatch Classification(IReadOnlyList<TransformSample> samples, BatchInfo info, TokenTargetSpec? tokenTargets = null)
    {
        if (samples.Count == 0) throw new ArgumentException("Collate.Classification: empty batch");
        var tensors = new Dictionary<string, Tensor>
        {
            ["image"] = Stack(samples.Select(s => s.Image).ToArray(), "image"),
            ["label"] = Tensor.From(samples.Select(s => s.Label).ToArray()),
        };
        if (tokenTargets is { } spec)
        {
            var missing = samples.Select((s, i) => (s, i)).Where(p => p.s.TokenLabel is null).Select(p => info.Slots[p.i].Index).ToArray();
            if (missing.Length > 0) throw new InvalidOperationException($"Collate.Classification: dataset samples {string.Join(", ", missing.Take(8))} have no token label");
            tensors["token_target"] = TokenLabelAligner.AlignBatch(samples.Select(s => s.TokenLabel!).ToArray(), spec.NumClasses, spec.GridHeight, spec.GridWidth, spec.Smoothing);
        }
        return new TensorBatch(tensors, info);
    }

    /// <summary>Dense prediction: "image" [B,C,H,W], and "mask" [B,H,W] / "depth" [B,H,W] when present in every sample.</summary>
    public static TensorBatch Dense(IReadOnlyList<TransformSample> samples, BatchInfo info)
    {
        if (samples.Count == 0) throw new ArgumentException("Collate.Dense: empty batch");
        var tensors = new Dictionary<string, Tensor> { ["image"] = Stack(samples.Select(s => s.Image).ToArray(), "image") };
        if (samples.All(s => s.Mask is not null)) tensors["mask"] = Stack(samples.Select(s => s.Mask!).ToArray(), "mask").Long();
        if (samples.All(s => s.Depth is not null)) tensors["depth"] = Stack(samples.Select(s => s.Depth!).ToArray(), "depth").Float();
        return new TensorBatch(tensors, info);
    }

    /// <summary>Stacks equally shaped tensors along a new batch axis, naming the first mismatch.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> items, string what)
    {
        var shape = items[0].Shape;
        for (var i = 1; i < items.Count; i++)
            if (!items[i].Shape.SequenceEqual(shape))
                throw new ArgumentException($"Collate: {what} of sample {i} is {items[i].Describe()} but sample 0's is {items[0].Describe()}");
        return Tensor.Stack(items, 0);
    }
}

/// <summary>How token-label targets are built in <see cref="Collate.Classification"/>.</summary>
/// <param name="NumClasses">Classes of the dense target (1000 for ImageNet).</param>
/// <param name="GridHeight">Token rows (14 at 224 px, patch 16).</param>
/// <param name="GridWidth">Token columns.</param>
/// <param name="Smoothing">Label smoothing ε (LV-ViT: 0.1).</param>
public readonly record struct TokenTargetSpec(int NumClasses, int GridHeight, int GridWidth, double Smoothing = 0.1);
