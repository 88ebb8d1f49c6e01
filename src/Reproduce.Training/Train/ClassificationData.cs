using Reproduce.Torch;
using Reproduce.Training.Config;
using Reproduce.Training.Inference;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Data.FashionScenes;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Data.Transforms;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Train;

/// <summary>
/// A classification split the trainer reads by index: images normalised [B, C, H, W] and int64 labels.
/// Datasets (<c>data.dataset</c>):
/// <list type="bullet">
/// <item><c>fashion-mnist</c>: Debian's IDX files; 28×28×1, normalised with the dataset's mean 0.2860 and std 0.3530
/// (its eval transform, as the images are used at their native size).</item>
/// <item><c>fashion-objects</c>: <see cref="FashionObjects"/> (64×64 RGB, one Fashion-MNIST item in the fashion-scenes
/// style; train from Fashion-MNIST's train items, test from its test items), dataset seed <see cref="FashionObjectsSeed"/>
/// fixed so that every run sees the same images whatever its own seed. <c>data.root</c> = the Fashion-MNIST folder.</item>
/// <item><c>imagenet</c>: the class-folder tree at <c>data.root</c> (<c>train/</c>, <c>val/</c>; <see cref="ImageNetFolder"/>),
/// decoded to RGB; the default evaluation split is <c>val</c>.</item>
/// </list>
/// Images other than fashion-mnist's go through the model's eval transform (<see cref="ModelEvalSettings"/>, with
/// <c>data.img_size</c>, <c>data.crop_pct</c>, <c>data.interpolation</c>, <c>data.mean</c>, <c>data.std</c> overriding it).
/// </summary>
public sealed class ClassificationData
{
    /// <summary>The dataset seed of fashion-objects in the trainer.</summary>
    public const int FashionObjectsSeed = 0;

    /// <summary>The datasets this class opens.</summary>
    public static readonly IReadOnlyList<string> Supported = ["fashion-mnist", "fashion-objects", "imagenet"];

    /// <summary>The evaluation split when <c>data.eval_split</c> is null: <c>val</c> for imagenet, <c>test</c> otherwise.</summary>
    public static string DefaultEvalSplit(DataSection data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.EvalSplit ?? (data.Dataset == "imagenet" ? "val" : "test");
    }

    private readonly FashionMnistSplit? _mnist;
    private readonly IImageDataset<ClassificationSample>? _images;

    private ClassificationData(FashionMnistSplit? mnist, IImageDataset<ClassificationSample>? images, int count, int numClasses,
        int channels, string name, EvalTransform eval)
    {
        (_mnist, _images, Count, NumClasses, Channels, Name, Eval) = (mnist, images, count, numClasses, channels, name, eval);
    }

    /// <summary>Number of samples used (after the limit).</summary>
    public int Count { get; }
    /// <summary>Number of classes.</summary>
    public int NumClasses { get; }
    /// <summary>Image channels (1 for fashion-mnist, 3 otherwise).</summary>
    public int Channels { get; }
    /// <summary>Dataset and split, for messages.</summary>
    public string Name { get; }
    /// <summary>The eval transform applied by <see cref="Batch"/> (for fashion-mnist only its mean and std matter).</summary>
    public EvalTransform Eval { get; }

    /// <summary>
    /// The token-label key of sample <paramref name="index"/>: ImageNet's relative path without extension
    /// (<see cref="ImageNetFolder.KeyOf"/>, the key <c>reproduce annotate</c> writes and the released TokenLabeling
    /// files are named by), else <see cref="TokenLabelTargets.Key"/> (<c>split/index</c>).
    /// </summary>
    public string SampleKey(int index) =>
        _images is ImageNetFolder folder ? folder.KeyOf(index) : TokenLabelTargets.Key(Name[(Name.IndexOf('/') + 1)..], index);

    /// <summary>The eval-transformed images and the labels at <paramref name="indices"/>.</summary>
    public (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices)
    {
        if (_mnist is not null) return _mnist.Batch(indices, Eval.Mean[0], Eval.Std[0]);
        foreach (var i in indices)
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"{Name}: sample {i} outside [0, {Count})");
        if (_images is FashionObjects objects && Eval.Size == objects.Size && Eval.ScaleSize == objects.Size) return ObjectsBatch(objects, indices);
        using var scope = Scope.Enter();
        var images = new Tensor[indices.Length];
        var labels = new long[indices.Length];
        for (var k = 0; k < indices.Length; k++)
        {
            using var sample = _images!.Load(indices[k]);
            images[k] = Eval.Apply(sample.Image);
            labels[k] = sample.Label;
        }
        return (scope.MoveOut(Tensor.Stack(images)), scope.MoveOut(Tensor.From<long>(labels, [indices.Length])));
    }

    /// <summary>
    /// The train-time pipeline (<see cref="TrainAugmentation"/>) <see cref="TrainBatch"/> applies; null = none
    /// (<c>aug.no_aug</c>, or a split opened for evaluation): <see cref="TrainBatch"/> then equals <see cref="Batch"/>.
    /// </summary>
    public ClassificationTrainTransform? Augmentation { get; private init; }

    /// <summary>This split with <paramref name="augmentation"/> as its train-time pipeline.</summary>
    public ClassificationData WithAugmentation(ClassificationTrainTransform? augmentation) =>
        new(_mnist, _images, Count, NumClasses, Channels, Name, Eval) { Augmentation = augmentation };

    /// <summary>
    /// The augmented images and labels at <paramref name="indices"/>, sample k drawn from <paramref name="rngs"/>[k], and
    /// the token-label maps (<paramref name="maps"/>[k] belongs to sample k) with the view the augmentation selected.
    /// Without <see cref="Augmentation"/>: <see cref="Batch"/>, maps unchanged. Up to <paramref name="workers"/> threads
    /// (<c>data.workers</c>) decode the samples; the batch is the same for any number.
    /// </summary>
    public (Tensor Images, Tensor Labels, IReadOnlyList<TokenLabelMap>? Maps) TrainBatch(ReadOnlySpan<int> indices, IReadOnlyList<Random> rngs,
        IReadOnlyList<TokenLabelMap>? maps = null, int workers = 0)
    {
        ArgumentNullException.ThrowIfNull(rngs);
        if (rngs.Count != indices.Length || maps is not null && maps.Count != indices.Length)
            throw new ArgumentException($"{Name}: {indices.Length} indices, {rngs.Count} generators and {maps?.Count} token-label maps must match");
        if (Augmentation is null)
        {
            var (x, y) = Batch(indices);
            return (x, y, maps);
        }
        // No scope of its own: the warped token-label maps and the images live in the caller's scope (a training
        // micro-step's), which frees the intermediates too.
        var images = new Tensor[indices.Length];
        var labels = new long[indices.Length];
        var outMaps = maps is null ? null : new TokenLabelMap[indices.Length];
        var raws = RawBatch(indices.ToArray(), workers);
        for (var k = 0; k < indices.Length; k++)
        {
            var (raw, label) = raws[k];
            var sample = Augmentation.Apply(new TransformSample(raw) { Label = label, TokenLabel = maps?[k] }, rngs[k]);
            images[k] = sample.Image;
            labels[k] = label;
            if (outMaps is not null) outMaps[k] = sample.TokenLabel!;
        }
        return (Tensor.Stack(images), Tensor.From<long>(labels, [indices.Length]), outMaps);
    }

    /// <summary>
    /// The images (uint8 [C, H, W], owned by the caller's scope) and labels at <paramref name="indices"/> before any
    /// transform, decoded by up to <paramref name="workers"/> threads (the result does not depend on their number).
    /// </summary>
    public (Tensor Image, long Label)[] RawImages(int[] indices, int workers) => RawBatch(indices, workers);

    /// <summary>
    /// The samples at <paramref name="indices"/> before any transform, decoded by up to <paramref name="workers"/> threads.
    /// Decoding draws no random numbers (the augmentation, which does, runs afterwards on the caller's thread), so the
    /// threads change only the time. A thread's tensors leave its scope and are re-owned by the caller's scope.
    /// </summary>
    private (Tensor Image, long Label)[] RawBatch(int[] indices, int workers)
    {
        var raws = new (Tensor Image, long Label)[indices.Length];
        if (workers <= 1 || indices.Length < 2)
        {
            for (var k = 0; k < indices.Length; k++) raws[k] = Raw(indices[k]);
            return raws;
        }
        var decoded = new (Tensor? Image, long Label)[indices.Length];
        try
        {
            Parallel.For(0, indices.Length, new ParallelOptions { MaxDegreeOfParallelism = workers }, k =>
            {
                using var scope = Scope.Enter();
                var (image, label) = Raw(indices[k]);
                decoded[k] = (image.DetachFromScope(), label);
            });
            for (var k = 0; k < indices.Length; k++) raws[k] = (decoded[k].Image!.Alias(), decoded[k].Label);
            return raws;
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // The caller sees the reader's own exception, as with one thread.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        finally
        {
            foreach (var (image, _) in decoded) image?.Dispose();
        }
    }

    /// <summary>Sample <paramref name="index"/> before any transform: uint8 [C,H,W] and its label.</summary>
    private (Tensor Image, long Label) Raw(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"{Name}: sample {index} outside [0, {Count})");
        if (_mnist is not null)
        {
            const int px = FashionMnistSplit.Side * FashionMnistSplit.Side;
            return (Tensor.From<byte>(_mnist.Images.AsSpan(index * px, px), [1, FashionMnistSplit.Side, FashionMnistSplit.Side]), _mnist.Labels[index]);
        }
        var sample = _images!.Load(index);
        return (sample.Image, sample.Label);
    }

    /// <summary>
    /// fashion-objects at the model's size, where the eval transform is only Normalize: rendered in parallel and normalised
    /// here (the same arithmetic as <see cref="Normalize.Apply"/>: (x/255 − mean)/std in float32), because the per-image
    /// tensor ops cost about 1.4 ms an image here, more than the rendering (1 ms) — 24 s per pass over the test split.
    /// </summary>
    private (Tensor Images, Tensor Labels) ObjectsBatch(FashionObjects objects, ReadOnlySpan<int> indices)
    {
        int n = indices.Length, side = objects.Size, plane = side * side;
        var x = new float[n * 3 * plane];
        var y = new long[n];
        var idx = indices.ToArray();
        var mean = Eval.Mean.Select(v => (float)v).ToArray();
        var std = Eval.Std.Select(v => (float)v).ToArray();
        Parallel.For(0, n, k =>
        {
            var rgb = objects.RenderRgb(idx[k]);
            var o = k * 3 * plane;
            for (var c = 0; c < 3; c++)
                for (var p = 0; p < plane; p++)
                    x[o + c * plane + p] = (rgb[3 * p + c] / 255f - mean[c]) / std[c];
            y[k] = objects.Label(idx[k]);
        });
        return (Tensor.From<float>(x, [n, 3, side, side]), Tensor.From<long>(y, [n]));
    }

    /// <summary>
    /// Opens <paramref name="split"/> of the configured dataset for the configured model, keeping the first
    /// <paramref name="limit"/> samples. Throws <see cref="ConfigException"/> naming the key for an unknown dataset or
    /// a model whose input channels or class count do not fit it.
    /// </summary>
    public static ClassificationData Open(RunConfig config, string split, int? limit) => Open(config, split, limit, classifier: true);

    /// <summary>
    /// As <see cref="Open(RunConfig, string, int?)"/>; without <paramref name="classifier"/> the model's class count is
    /// not checked against the dataset's (a backbone pretrained without labels, e.g. by DINOv2).
    /// </summary>
    public static ClassificationData Open(RunConfig config, string split, int? limit, bool classifier)
    {
        ArgumentNullException.ThrowIfNull(config);
        var data = config.Data;
        if (!Supported.Contains(data.Dataset))
            throw new ConfigException($"data.dataset: '{data.Dataset}' is not supported by the classification trainer (supported: {string.Join(", ", Supported)})", "data.dataset");
        if (data.Root is { } root && !Directory.Exists(root))
            throw new DirectoryNotFoundException($"data.root: dataset root '{root}' does not exist");
        var entry = ResolveModel(config);
        var eval = EvalTransformFor(config, entry);
        var modelChans = ModelEvalSettings.InChans(entry);
        var (mnist, images, count, classes, channels) = data.Dataset switch
        {
            "fashion-mnist" => FromMnist(FashionMnist.Load(split, data.Root)),
            "imagenet" => FromImageNet(OpenImageNet(data, split, eval)),
            _ => FromImages(new FashionObjects(FashionMnist.Load(split, data.Root), split, FashionObjectsSeed, eval.Size), FashionObjects.Classes.Count, 3),
        };
        if (modelChans != channels)
            throw new ConfigException($"model.name: '{config.Model.Name}' takes {modelChans}-channel images but {data.Dataset} has {channels} channels", "model.name");
        if (classifier && ModelEvalSettings.NumClasses(entry) is { } n && n != classes)
            throw new ConfigException(
                $"model.num_classes: '{config.Model.Name}' has {(n == 0 ? "no classifier head (num_classes 0)" : $"{n} classes")} but {data.Dataset} has {classes}; set model.num_classes={classes}",
                "model.num_classes");
        if (data.Dataset == "fashion-mnist" && (eval.Size != FashionMnistSplit.Side || eval.ScaleSize != FashionMnistSplit.Side))
            throw new ConfigException($"data.img_size / data.crop_pct: fashion-mnist is used at its native 28×28 (no resize or crop); got size {eval.Size}, crop_pct {eval.CropPct}", "data.img_size");
        var kept = limit is { } l ? Math.Min(l, count) : count;
        return new ClassificationData(mnist, images, kept, classes, channels, $"{data.Dataset}/{split}", eval);

        static (FashionMnistSplit?, IImageDataset<ClassificationSample>?, int, int, int) FromMnist(FashionMnistSplit s) =>
            (s, null, s.Count, FashionMnistSplit.Classes.Length, 1);
        static (FashionMnistSplit?, IImageDataset<ClassificationSample>?, int, int, int) FromImageNet(ImageNetFolder d) =>
            (null, d, d.Count, d.Classes.Count, 3);
        static (FashionMnistSplit?, IImageDataset<ClassificationSample>?, int, int, int) FromImages(IImageDataset<ClassificationSample> d, int classes, int channels) =>
            (null, d, d.Count, classes, channels);
    }

    /// <summary>
    /// <paramref name="split"/> of the ImageNet class-folder tree at <c>data.root</c> (docs/protocols.md §1.1–1.2). Class
    /// indices come from the <c>train</c> folder's sorted wnids for every split, so val indices match training's (from the
    /// split's own folders when there is no <c>train</c>). Any
    /// problem of the layout scan (loose images, empty or unknown class folders, non-image files) is an error naming
    /// the paths. Evaluation splits decode JPEGs at reduced size in the DCT domain (no smaller than the eval resize).
    /// </summary>
    private static ImageNetFolder OpenImageNet(DataSection data, string split, EvalTransform eval)
    {
        var root = data.Root ?? throw new ConfigException("data.root: data.dataset=imagenet needs data.root, a folder holding train/ and val/ (ROOT/train/<wnid>/*.JPEG)", "data.root");
        // Without a train folder (evaluating released weights on val alone) the split's own sorted wnids index the
        // classes, which for ImageNet's 1000 val folders is the same order.
        var classSplit = Directory.Exists(Path.Combine(root, "train")) ? "train" : split;
        var classes = new ImageNetFolder(root, classSplit).Classes;
        if (classes.Count == 0) throw new InvalidDataException($"{Path.Combine(root, classSplit)}: no class folders (expected ROOT/{classSplit}/<wnid>/*.JPEG)");
        var folder = new ImageNetFolder(root, split, classes, decodeMinSide: split == data.TrainSplit ? 0 : eval.ScaleSize);
        if (folder.Problems.Count > 0)
            throw new InvalidDataException($"{folder.SplitDir}: {folder.Problems.Count} layout problem(s): " +
                string.Join("; ", folder.Problems.Take(5).Select(p => p.ToString())) + (folder.Problems.Count > 5 ? " …" : ""));
        if (folder.Count == 0) throw new InvalidDataException($"{folder.SplitDir}: no images");
        return folder;
    }

    /// <summary>
    /// The model's eval transform (<see cref="ModelEvalSettings.For"/>) with the config's <c>data.img_size</c>,
    /// <c>data.crop_pct</c>, <c>data.interpolation</c>, <c>data.mean</c> and <c>data.std</c> where set.
    /// </summary>
    public static EvalTransform EvalTransformFor(RunConfig config, ModelEntry entry)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(entry);
        var d = config.Data;
        var t = ModelEvalSettings.For(entry);
        if (d.ImgSize is { } size) t = t with { Size = size };
        if (d.CropPct is { } pct) t = t with { CropPct = pct };
        if (d.Interpolation is { } mode) t = t with { Interpolation = mode };
        if (d.Mean is { } mean) t = t with { Mean = mean };
        if (d.Std is { } std) t = t with { Std = std };
        if (t.Mean.Count != t.Std.Count || t.Mean.Count != ModelEvalSettings.InChans(entry))
            throw new ConfigException($"data.mean / data.std: {t.Mean.Count} means and {t.Std.Count} stds for a {ModelEvalSettings.InChans(entry)}-channel model", "data.mean");
        return t;
    }

    /// <summary>The registry entry of <c>model.name</c> with its overrides (a <see cref="ConfigException"/> naming <c>model</c> otherwise).</summary>
    public static ModelEntry ResolveModel(RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        try
        {
            return config.Model.Resolve();
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"model: {e.Message}", "model", inner: e);
        }
    }
}
