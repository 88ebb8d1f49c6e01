using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Training.Train;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Data.Loading;
using Reproduce.Vision.Data.Transforms;
using Reproduce.Vision.Models;
using Reproduce.Vision.Models.Heads;

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

    /// <summary>
    /// Runs <paramref name="run"/> (a fixed-size model: [B, C, size, size] → [B, K, size, size]) on a window
    /// [B, C, h, w] with h, w ≤ <paramref name="size"/>: the window is zero-padded at the bottom/right to the model's size
    /// and the output cut back to h×w. (mmseg runs a small window at its own size; a ViT with a fixed position
    /// embedding cannot, and padding keeps each pixel's receptive field where it was.)
    /// </summary>
    public static Tensor Window(Tensor window, int size, Func<Tensor, Tensor> run)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(run);
        using var s = Scope.Enter();
        long h = window.Size(2), w = window.Size(3);
        if (h > size || w > size) throw new ArgumentException($"probe: window {window.Describe()} is larger than the model input {size}");
        var x = h == size && w == size ? window : F.Pad(window, [0, size - w, 0, size - h]);
        var y = run(x);
        return s.MoveOut(h == size && w == size ? y : y.Slice(2, 0, h).Slice(3, 0, w).Contiguous());
    }

    /// <summary>uint8 [3, H, W] → normalised float32 [1, 3, H, W] at the image's own size (the slide protocol's input).</summary>
    public static Tensor FullImage(Tensor image)
    {
        using var s = Scope.Enter();
        return s.MoveOut(Normalize.Apply(image).Unsqueeze(0).Contiguous());
    }

    /// <summary>
    /// The head's output for one evaluation image at the label's size <paramref name="h"/>×<paramref name="w"/>: whole
    /// inference (the image resized to the model input, <paramref name="predict"/> asked for h×w directly) or, with
    /// <paramref name="slideStride"/>, mmseg's slide inference over windows at the image's own scale (resized to h×w
    /// when the image and label sizes differ). <paramref name="predict"/> maps (input [1, 3, size, size], out h, out w)
    /// to the head's dense output, e.g. segmentation logits or depth. With <paramref name="augmentation"/> (segmentation
    /// only), mmseg's multi-scale + flip test instead: the class probabilities averaged over the augmented passes
    /// (<see cref="TestTimeAugmentation"/>), each pass this single-scale inference on the rescaled, flipped image.
    /// </summary>
    public static Tensor Predict(Tensor image, long h, long w, int size, int? slideStride, Device device, Func<Tensor, long, long, Tensor> predict,
        TestTimeAugmentation? augmentation = null)
    {
        ArgumentNullException.ThrowIfNull(predict);
        if (augmentation is { IsSingle: false } tta)
            return tta.Probabilities(image, rescale: slideStride is not null, x => Normalised(x, h, w, size, slideStride, device, predict));
        return Normalised(FullImage(image), h, w, size, slideStride, device, predict);
    }

    // The single-scale inference of Predict on an image already normalised [1, 3, H', W'] (the image itself, or one
    // test-time augmentation of it).
    private static Tensor Normalised(Tensor x, long h, long w, int size, int? slideStride, Device device, Func<Tensor, long, long, Tensor> predict)
    {
        if (slideStride is { } stride)
        {
            var output = SlideInference.Run(x.To(device), size, stride, crop => Window(crop, size, c => predict(c, size, size)));
            return output.Size(2) != h || output.Size(3) != w ? DecodeHeads.Resize(output, h, w) : output;
        }
        if (x.Size(2) != size || x.Size(3) != size) x = F.Interpolate(x, [size, size], mode: InterpolationMode.Bilinear);
        return predict(x.Contiguous().To(device), h, w);
    }

    /// <summary>
    /// The evaluation loop both probes share: for the first min(count, <paramref name="maxImages"/>) samples of
    /// <paramref name="val"/>, one scope per sample (mmseg/BTS evaluate at batch 1), with the backbone and head in eval
    /// mode and no autograd, <paramref name="forward"/> of the features of <paramref name="blocks"/> at the target's size
    /// (<see cref="Predict"/>: whole or slide inference), handed to <paramref name="update"/> with the target. The head's
    /// training mode is restored afterwards. <paramref name="workers"/> threads load the samples ahead; with
    /// <paramref name="dp"/> this rank scores samples r, r + W, … only (the caller sums the totals over ranks). With
    /// <paramref name="augmentation"/> the output is the multi-scale + flip test's averaged probabilities (segmentation).
    /// </summary>
    public static void EvaluateEach<TSample>(VisionTransformer backbone, Module head, IImageDataset<TSample> val, IReadOnlyList<int> blocks,
        int size, int? slideStride, int? maxImages, Func<TSample, (Tensor Image, Tensor Target)> pair,
        Func<IntermediateLayer[], long, long, Tensor> forward, Action<Tensor, Tensor> update, int workers = 0, Train.Distributed.DataParallel? dp = null,
        TestTimeAugmentation? augmentation = null)
        where TSample : IDisposable
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(val);
        ArgumentNullException.ThrowIfNull(pair);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(update);
        var device = backbone.Parameters().First().Device;
        var wasTraining = head.Training;
        head.Eval();
        backbone.Eval();
        try
        {
            using var noGrad = Torch.Torch.NoGrad();
            var count = Math.Min(val.Count, maxImages ?? int.MaxValue);
            var mine = Enumerable.Range(0, count).Where(i => dp is null || i % dp.WorldSize == dp.Rank).ToArray();
            using var samples = new OrderedPrefetch<PreparedBatch>(mine.Length, k =>
            {
                using var ws = Scope.Enter();
                using var sample = val.Load(mine[k]);
                var (img, tgt) = pair(sample);
                return new PreparedBatch(img.Alias(), tgt.Alias()); // outlive the sample, which frees its own tensors
            }, workers, Math.Max(1, 2 * workers), p => p.Dispose());
            for (var k = 0; k < mine.Length; k++)
            {
                using var s = Scope.Enter();
                var (image, target, _) = samples.Take(k).Adopt();
                var output = Predict(image, target.Size(0), target.Size(1), size, slideStride, device,
                    (x, h, w) => forward(backbone.GetIntermediateLayers(x, blocks), h, w), augmentation);
                update(output, target);
            }
        }
        finally
        {
            head.Train(wasTraining);
        }
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
    /// A random <paramref name="size"/>×<paramref name="size"/> crop of <paramref name="image"/> (uint8 [3, H, W], normalised)
    /// and the same crop of <paramref name="map"/> [H, W], at the image's own scale (mmseg's RandomCrop, without its
    /// cat_max_ratio retries); a side shorter than the crop is padded at the bottom/right, the image with 0 and the map with
    /// <paramref name="mapPad"/> (255 = ignored label, 0 = invalid depth), as mmseg's Pad. Returns [1, 3, size, size] and [size, size].
    /// </summary>
    public static (Tensor Image, Tensor Map) RandomCrop(Tensor image, Tensor map, int size, Random rng, bool flip, double mapPad)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(rng);
        int h = (int)image.Size(1), w = (int)image.Size(2);
        if (map.Size(0) != h || map.Size(1) != w)
            throw new ArgumentException($"probe: image {image.Describe()} and its map {map.Describe()} differ in size; a random crop needs them aligned");
        using var s = Scope.Enter();
        var y = rng.Next(Math.Max(h - size, 0) + 1);
        var x = rng.Next(Math.Max(w - size, 0) + 1);
        var img = Normalize.Apply(image).Unsqueeze(0).Slice(2, y, y + size).Slice(3, x, x + size);
        var m = map.Slice(0, y, y + size).Slice(1, x, x + size);
        long padH = size - img.Size(2), padW = size - img.Size(3);
        if (padH > 0 || padW > 0)
        {
            img = F.Pad(img, [0, padW, 0, padH]);
            m = F.Pad(m.Unsqueeze(0), [0, padW, 0, padH], mapPad).Squeeze(0);
        }
        if (flip)
        {
            img = img.Flip(3);
            m = m.Flip(1);
        }
        return (s.MoveOut(img.Contiguous()), s.MoveOut(m.Contiguous()));
    }

    /// <summary>
    /// The next training batch: <paramref name="batchSize"/> samples in <paramref name="order"/>, each
    /// <paramref name="image"/> and its per-pixel <paramref name="target"/> map resized to <paramref name="size"/> — or, with
    /// <paramref name="randomCrop"/>, cropped to it at their own scale (<see cref="RandomCrop"/>, maps padded with
    /// <paramref name="mapPad"/>) — and flipped together with probability <paramref name="flipProb"/>. Returns images
    /// [B, 3, size, size] and the maps stacked [B, size, size]. With <paramref name="keep"/>, only the slots it accepts
    /// are returned (a rank's share of a global batch); the others still draw their random numbers, so every rank walks
    /// the same stream (a skipped slot is decoded only when its crop needs the image size).
    /// </summary>
    public static (Tensor Images, Tensor Targets) NextBatch<TSample>(IImageDataset<TSample> train, IEnumerator<int> order, Random rng,
        int batchSize, double flipProb, int size, Func<TSample, Tensor> image, Func<TSample, Tensor> target, bool randomCrop = false,
        double mapPad = 0, Func<int, bool>? keep = null) where TSample : IDisposable
    {
        using var s = Scope.Enter();
        var images = new List<Tensor>(batchSize);
        var targets = new List<Tensor>(batchSize);
        for (var b = 0; b < batchSize; b++)
        {
            order.MoveNext();
            if (keep is not null && !keep(b))
            {
                _ = rng.NextDouble(); // the flip
                if (!randomCrop) continue;
                using var skipped = train.Load(order.Current);
                var img = image(skipped);
                _ = rng.Next(Math.Max((int)img.Size(1) - size, 0) + 1);
                _ = rng.Next(Math.Max((int)img.Size(2) - size, 0) + 1);
                continue;
            }
            using var sample = train.Load(order.Current);
            var flip = rng.NextDouble() < flipProb;
            if (randomCrop)
            {
                var (img, map) = RandomCrop(image(sample), target(sample), size, rng, flip, mapPad);
                images.Add(img);
                targets.Add(map);
            }
            else
            {
                images.Add(Image(image(sample), size, flip));
                targets.Add(Map(target(sample), size, flip));
            }
        }
        return (s.MoveOut(Tensor.Cat(images, 0)), s.MoveOut(Tensor.Stack(targets, 0)));
    }
}
