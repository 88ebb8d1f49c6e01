using Reproduce.Torch.IO;
using Reproduce.Torch.Nn;
using Reproduce.Torch;
using Reproduce.Training.Checkpoints.Released;
using Reproduce.Training.Inference;
using Reproduce.Training.Train;
using Reproduce.Training.Train.Distributed;
using Reproduce.Vision.Data.Loading;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Data.FashionScenes;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Data.Transforms;
using Reproduce.Vision.Data;
using Reproduce.Vision.Models;
using Reproduce.Vision.Tokens;

namespace Reproduce.Training.Annotation;

/// <summary>
/// <c>reproduce annotate</c>: runs a trained teacher over a dataset and writes its dense top-k score maps to a token-label
/// store (<see cref="TokenLabelStoreWriter.AddScores"/>, raw pre-softmax scores as TokenLabeling's generate_label.py keeps
/// them). Each image goes through the teacher's eval normalisation at the requested resolution (shorter side → R,
/// center crop R×R); the teacher must yield dense score maps (<see cref="YieldsDenseScores"/>). Store keys follow
/// <see cref="ITokenLabelSource"/>: ImageNet's relative path without extension; for Fashion-MNIST and fashion-objects,
/// which have no files, <see cref="FashionMnistKey"/> (<c>split/index</c>, five digits: the key the trainer's token-label
/// lookup uses). fashion-objects images are rendered as the trainer renders them (dataset seed
/// <see cref="Train.ClassificationData.FashionObjectsSeed"/>, at R×R), so image i of the store is the image the trainer
/// reads as sample i. The store is written atomically: a failure leaves no partial file and any existing store untouched.
/// <see cref="AnnotateOptions.Workers"/> threads decode and transform the batches ahead of the teacher; under
/// <c>reproduce launch</c> the images are shared out among the ranks and merged by rank 0 (<see cref="AnnotationShards"/>).
/// </summary>
public static class Annotator
{
    /// <summary>The store key of Fashion-MNIST sample <paramref name="index"/> of a split: five digits, e.g. <c>00042</c>.</summary>
    public static string FashionMnistKey(string split, int index) => Train.TokenLabelTargets.Key(split, index);

    /// <summary>The input transform used for <paramref name="entry"/> at <paramref name="resolution"/>.</summary>
    public static EvalTransform Transform(ModelEntry entry, int resolution)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return ModelEvalSettings.For(entry) with { Size = resolution, CropPct = 1.0 };
    }

    /// <summary>
    /// Whether <paramref name="model"/> yields dense score maps: an <see cref="IDenseScoreModel"/> (<see cref="ResNet"/>,
    /// <see cref="NfNet"/>: the classifier at every location) or a <see cref="VisionTransformer"/> with an <c>aux_head</c> (<c>return_dense</c>, e.g. LV-ViT: the patch-token logits).
    /// </summary>
    public static bool YieldsDenseScores(Module model) => model is IDenseScoreModel || model is VisionTransformer { Config.ReturnDense: true };

    /// <summary>
    /// Dense score maps [B, classes, h, w] of the teacher for normalised images [B, C, R, R]: <see cref="IDenseScoreModel.ForwardDense"/>,
    /// or a ViT's aux-head patch logits [B, h·w, classes] (eval mode, no MixToken) laid out on the h×w patch grid.
    /// </summary>
    public static Tensor DenseScores(Module model, Tensor images)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        using var noGrad = Torch.Torch.NoGrad();
        switch (model)
        {
            case IDenseScoreModel d:
                return d.ForwardDense(images);
            case VisionTransformer { Config.ReturnDense: true } v:
            {
                using var s = Scope.Enter();
                var (h, w) = ((int)(images.Size(2) / v.Config.PatchSize), (int)(images.Size(3) / v.Config.PatchSize));
                var aux = v.ForwardTokenLabeling(images, MixTokenBox.Empty(h, w)).AuxLogits;
                if (aux.Size(1) != (long)h * w)
                    throw new AnnotationException($"annotate: the aux head gave {aux.Size(1)} patch logits, expected {h}×{w} for images {images.Describe()}");
                return s.MoveOut(aux.Transpose(1, 2).Reshape([aux.Size(0), aux.Size(2), h, w]).Contiguous());
            }
            default:
                throw new AnnotationException(NoDenseScores(model.GetType().Name));
        }
    }

    private static string NoDenseScores(string what) =>
        $"annotate: {what} yields no dense score maps; use a ResNet or NFNet annotator (e.g. resnet_tiny_fm28, resnet50, dm_nfnet_f6) or a ViT with an aux head (e.g. lvvit_tiny_fm28, lvvit_s)";

    /// <summary>Annotates the dataset and returns the number of images written.</summary>
    public static int Run(AnnotateOptions options, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var entry = WithClassesOf(ModelRegistry.Get(options.Model), options.Weights);
        using var model = entry.Create();
        if (!YieldsDenseScores(model)) throw new AnnotationException(NoDenseScores($"model '{options.Model}'"));
        try
        {
            ModelWeights.LoadStrict(model, options.Weights);
        }
        catch (Exception e) when (e is TorchException or SafeTensorsException or IOException or InvalidDataException)
        {
            throw new AnnotationException($"annotate: weights {options.Weights} do not fit model '{options.Model}': {e.Message}", e);
        }
        model.Eval();
        var transform = Transform(entry, options.Resolution);
        var classes = NumClasses(entry);
        if (options.TopK > classes) throw new AnnotationException($"annotate: --topk {options.TopK} exceeds the model's {classes} classes");
        var gray = ModelEvalSettings.InChans(entry) == 1;
        var (keys, load) = Source(options, gray);
        var count = options.Limit is { } lim ? Math.Min(lim, keys.Count) : keys.Count;
        if (count == 0) throw new AnnotationException($"annotate: the {options.Dataset} {options.Split} split holds no images");
        var dp = DataParallel.Current; // under `reproduce launch`: each rank annotates its share, rank 0 merges
        var mine = AnnotationShards.Mine(count, dp);
        var output = dp is null ? options.Output : AnnotationShards.ShardPath(options.Output, dp.Rank, dp.WorldSize);
        var batches = (mine.Length + options.BatchSize - 1) / options.BatchSize;
        using (var inputs = new OrderedPrefetch<PreparedBatch>(batches, b =>
        {
            using var ws = Scope.Enter();
            var idx = mine.Skip(b * options.BatchSize).Take(options.BatchSize).ToList();
            var images = Tensor.Stack(idx.Select(i => transform.Apply(load(i))).ToList());
            return new PreparedBatch(images, Tensor.From(idx.Select(i => (long)i).ToArray()));
        }, options.Workers, Math.Max(1, 2 * options.Workers), p => p.Dispose()))
        {
            TokenLabelStoreWriter? writer = null;
            try
            {
                for (var b = 0; b < batches; b++)
                {
                    using var scope = Scope.Enter();
                    var (batch, _, _) = inputs.Take(b).Adopt();
                    var n = (int)batch.Size(0);
                    var scores = DenseScores(model, batch);
                    writer ??= new TokenLabelStoreWriter(output, options.TopK, (int)scores.Size(2), (int)scores.Size(3), classes);
                    for (var k = 0; k < n; k++) writer.AddScores(keys[mine[b * options.BatchSize + k]], scores.Select(0, k));
                    progress?.Invoke(Math.Min((b + 1) * options.BatchSize, mine.Length), mine.Length);
                }
                writer?.Complete();
            }
            finally
            {
                writer?.Dispose();
            }
        }
        if (dp is not null)
        {
            dp.Group.Barrier(); // every shard complete
            if (dp.IsMain) AnnotationShards.Merge(dp, options.Output, keys, count);
            dp.Group.Barrier(); // the output exists when any rank returns
        }
        return count;
    }

    /// <summary>
    /// <paramref name="entry"/> with the class count of the classifier in <paramref name="weights"/> (<c>fc.weight</c>
    /// of a ResNet, <c>head.fc.weight</c> of an NFNet, <c>head.weight</c> of a ViT), so a teacher trained on a subset (ImageNet-100, 4 classes) annotates
    /// without a separate option. Unchanged when the file has no such tensor: the strict load then names what differs.
    /// </summary>
    public static ModelEntry WithClassesOf(ModelEntry entry, string weights)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(weights);
        (string Key, Func<int, IModelConfig> WithClasses)? head = entry.Config switch
        {
            ResNetConfig r => ("fc.weight", n => r with { NumClasses = n }),
            NfNetConfig f => ("head.fc.weight", n => f with { NumClasses = n }),
            VitConfig v => ("head.weight", n => v with { NumClasses = n }),
            _ => null,
        };
        if (head is not { } h) return entry;
        long[]? classifier;
        try
        {
            classifier = HeadShape(weights, h.Key);
        }
        catch (Exception e) when (e is SafeTensorsException or IOException or InvalidDataException)
        {
            throw new AnnotationException($"annotate: cannot read the teacher weights '{weights}': {e.Message}", e);
        }
        if (classifier is not { Length: 2 }) return entry;
        var classes = classifier[0];
        return classes == ModelEvalSettings.NumClasses(entry) ? entry : entry.With(h.WithClasses((int)classes));
    }

    // The shape of tensor `key` in a safetensors header, or in a torch.save file's state dict (ModelWeights' reader).
    private static long[]? HeadShape(string weights, string key)
    {
        if (WeightsFile.IsSafeTensors(weights))
            return SafeTensors.ReadHeader(weights).TryGetEntry(key, out var e) ? e.Shape.ToArray() : null;
        using var scope = Scope.Enter();
        return WeightsFile.Read(weights).State.TryGetValue(key, out var t) ? t.Shape : null;
    }

    private static int NumClasses(ModelEntry entry) =>
        ModelEvalSettings.NumClasses(entry) ?? throw new AnnotationException($"annotate: model '{entry.Name}' has no classifier");

    // Keys and a loader of uint8 [C, H, W] images for the requested dataset and split.
    private static (IReadOnlyList<string> Keys, Func<int, Tensor> Load) Source(AnnotateOptions o, bool gray)
    {
        if (o.Dataset == "fashion-mnist")
        {
            if (!gray) throw new AnnotationException($"annotate: fashion-mnist images have 1 channel but model '{o.Model}' takes 3");
            FashionMnistSplit split;
            try
            {
                split = FashionMnist.Load(o.Split, o.Root);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
            {
                throw new AnnotationException($"annotate: cannot load fashion-mnist split '{o.Split}' from {o.Root ?? FashionMnist.DefaultRoot}: {e.Message}", e);
            }
            const int px = FashionMnistSplit.Side * FashionMnistSplit.Side;
            var keys = Enumerable.Range(0, split.Count).Select(i => FashionMnistKey(o.Split, i)).ToList();
            return (keys, i => Tensor.From<byte>(split.Images.AsSpan(i * px, px), [1, FashionMnistSplit.Side, FashionMnistSplit.Side]));
        }
        if (o.Dataset == "fashion-objects") return FashionObjectsSource(o, gray);
        if (o.Root is null) throw new AnnotationException("annotate: --root is required for imagenet (the folder holding train/ and val/)");
        if (gray) throw new AnnotationException($"annotate: imagenet images are RGB but model '{o.Model}' takes 1 channel");
        ImageNetFolder folder;
        try
        {
            folder = new ImageNetFolder(o.Root, o.Split);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
        {
            throw new AnnotationException($"annotate: cannot read imagenet split '{o.Split}' under {o.Root}: {e.Message}", e);
        }
        var names = Enumerable.Range(0, folder.Count).Select(folder.KeyOf).ToList();
        return (names, i => ImageCodec.DecodeFile(folder[i].Path, ImageReadMode.Rgb));
    }

    // fashion-objects: rendered on demand at R×R with the trainer's dataset seed, keys as fashion-mnist's.
    private static (IReadOnlyList<string> Keys, Func<int, Tensor> Load) FashionObjectsSource(AnnotateOptions o, bool gray)
    {
        if (gray) throw new AnnotationException($"annotate: fashion-objects images are RGB but model '{o.Model}' takes 1 channel (use e.g. resnet_tiny_objects64)");
        FashionObjects objects;
        try
        {
            objects = FashionObjects.Open(o.Split, Train.ClassificationData.FashionObjectsSeed, o.Resolution, o.Root);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
        {
            throw new AnnotationException($"annotate: cannot open fashion-objects split '{o.Split}' at {o.Resolution}×{o.Resolution} (Fashion-MNIST from {o.Root ?? FashionMnist.DefaultRoot}): {e.Message}", e);
        }
        var keys = Enumerable.Range(0, objects.Count).Select(i => FashionMnistKey(o.Split, i)).ToList();
        return (keys, i => objects.Load(i).Image);
    }
}
