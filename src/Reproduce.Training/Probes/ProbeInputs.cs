using Reproduce.Torch;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Data.Transforms;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Probes;

/// <summary>Input preparation and frozen-feature extraction shared by the dense probes.</summary>
public static class ProbeInputs
{
    /// <summary>uint8 [3, H, W] → normalised float32 [1, 3, size, size] (ImageNet mean/std, bilinear resize), optionally flipped.</summary>
    public static Tensor Image(Tensor image, int size, bool flip)
    {
        using var s = Scope.Enter();
        var x = Normalize.Apply(image).Unsqueeze(0);
        if (x.Size(2) != size || x.Size(3) != size) x = F.Interpolate(x, [size, size], mode: InterpolationMode.Bilinear);
        if (flip) x = x.Flip(3);
        return s.MoveOut(x.Contiguous());
    }

    /// <summary>A per-pixel map [H, W] (labels or depth) → [size, size] by nearest resize (no label mixing), optionally flipped.</summary>
    public static Tensor Map(Tensor map, int size, bool flip)
    {
        using var s = Scope.Enter();
        var dtype = map.DType;
        var x = map.To(ScalarType.Float32).Unsqueeze(0).Unsqueeze(0);
        if (x.Size(2) != size || x.Size(3) != size) x = F.Interpolate(x, [size, size], mode: InterpolationMode.Nearest);
        if (flip) x = x.Flip(3);
        return s.MoveOut(x.Squeeze(0).Squeeze(0).To(dtype).Contiguous());
    }

    /// <summary>The frozen backbone's features of <paramref name="blocks"/> (eval mode, no autograd graph).</summary>
    public static IntermediateLayer[] Features(VisionTransformer backbone, Tensor images, IReadOnlyList<int> blocks)
    {
        using var noGrad = Torch.Torch.NoGrad();
        return backbone.GetIntermediateLayers(images, blocks);
    }

    /// <summary>The side length the backbone is fed (the option, or the backbone's <c>img_size</c>).</summary>
    public static int InputSize(VisionTransformer backbone, ProbeOptions options) => options.InputSize ?? backbone.Config.ImgSize;

    /// <summary>Puts the backbone in eval mode and turns off its parameters' gradients (a frozen backbone).</summary>
    public static void Freeze(VisionTransformer backbone)
    {
        backbone.Eval();
        foreach (var p in backbone.Parameters()) p.RequiresGrad = false;
    }

    /// <summary>A deterministic endless sampling order: a fresh permutation of 0..count−1 per epoch.</summary>
    public static IEnumerable<int> Order(int count, Random rng)
    {
        if (count < 1) throw new ArgumentException("probe: the training split is empty");
        while (true)
        {
            var perm = Enumerable.Range(0, count).ToArray();
            rng.Shuffle(perm);
            foreach (var i in perm) yield return i;
        }
    }

    /// <summary>
    /// The next training batch: <paramref name="batchSize"/> samples in <paramref name="order"/>, each
    /// <paramref name="image"/> and its per-pixel <paramref name="target"/> map resized to <paramref name="size"/> and flipped together with
    /// probability <paramref name="flipProb"/>. Returns images [B, 3, size, size] and the maps stacked [B, size, size].
    /// </summary>
    public static (Tensor Images, Tensor Targets) NextBatch<TSample>(IImageDataset<TSample> train, IEnumerator<int> order, Random rng,
        int batchSize, double flipProb, int size, Func<TSample, Tensor> image, Func<TSample, Tensor> target) where TSample : IDisposable
    {
        using var s = Scope.Enter();
        var images = new List<Tensor>(batchSize);
        var targets = new List<Tensor>(batchSize);
        for (var b = 0; b < batchSize; b++)
        {
            order.MoveNext();
            using var sample = train.Load(order.Current);
            var flip = rng.NextDouble() < flipProb;
            images.Add(Image(image(sample), size, flip));
            targets.Add(Map(target(sample), size, flip));
        }
        return (s.MoveOut(Tensor.Cat(images, 0)), s.MoveOut(Tensor.Stack(targets, 0)));
    }
}
