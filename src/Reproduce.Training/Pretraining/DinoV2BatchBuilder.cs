using Reproduce.Torch;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// Turns uint8 images into a <see cref="DinoV2Batch"/>: per image the multi-crop geometry
/// (<see cref="MultiCropGeometry"/>, bicubic resize, flip) and the per-crop photometric pipeline
/// (<see cref="DinoPhotometric"/>), crops stacked crop-major as dinov2's collate does, then the iBOT masks of the
/// global crops (<see cref="SslMaskBatch"/>, 10–50 % of the patches in half of them). Every draw comes from the
/// generator of (seed, step, position) or (seed, step, masks), so a batch is a pure function of those.
/// </summary>
public sealed record DinoV2BatchBuilder(int PatchSize)
{
    /// <summary>The crop geometry.</summary>
    public MultiCropGeometry Geometry { get; init; } = new();

    /// <summary>The photometric pipeline.</summary>
    public DinoPhotometric Photometric { get; init; } = new();

    /// <summary>ibot.mask_ratio_min_max.</summary>
    public (double Min, double Max) MaskRatio { get; init; } = (0.1, 0.5);

    /// <summary>ibot.mask_sample_probability.</summary>
    public double MaskProbability { get; init; } = 0.5;

    /// <summary>Threads cropping the images (0 or 1: the caller's thread); each image draws from its own generator, so the batch is the same for any number.</summary>
    public int Workers { get; init; }

    /// <summary>
    /// The batch of <paramref name="images"/> (uint8 [C, H, W] each) for optimizer step <paramref name="step"/>. With
    /// <paramref name="slots"/>, the images are those slots of a global batch of <paramref name="globalImages"/> (one
    /// data-parallel rank's share): the masks are drawn for the global batch and the rows of these slots kept, so the
    /// ranks together hold the masks of one process building the global batch.
    /// </summary>
    public DinoV2Batch Build(IReadOnlyList<Tensor> images, IReadOnlyList<long> positions, ulong seed, long step,
        int globalImages = 0, IReadOnlyList<int>? slots = null)
    {
        if (slots is not null && (slots.Count != images?.Count || slots.Any(s => s < 0 || s >= globalImages)))
            throw new ArgumentException($"DINOv2 batch: {slots.Count} slots of a global batch of {globalImages} for {images?.Count} images");
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(positions);
        if (images.Count == 0 || images.Count != positions.Count)
            throw new ArgumentException($"DINOv2 batch: {images.Count} images and {positions.Count} positions; need the same positive number");
        if (Geometry.GlobalSize % PatchSize != 0)
            throw new ArgumentException($"DINOv2 batch: global crop size {Geometry.GlobalSize} is not a multiple of the patch size {PatchSize}");
        using var scope = Scope.Enter();
        var perImage = new Tensor[images.Count][];
        if (Workers <= 1 || images.Count < 2)
            for (var i = 0; i < images.Count; i++) perImage[i] = Crops(images[i], seed, step, positions[i]);
        else
        {
            var detached = new Tensor[images.Count][];
            try
            {
                Parallel.For(0, images.Count, new ParallelOptions { MaxDegreeOfParallelism = Workers }, i =>
                {
                    using var worker = Scope.Enter();
                    var crops = Crops(images[i], seed, step, positions[i]);
                    foreach (var c in crops) c.DetachFromScope();
                    detached[i] = crops;
                });
                for (var i = 0; i < detached.Length; i++) perImage[i] = detached[i].Select(c => c.Alias()).ToArray(); // owned by this scope
            }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0)
            {
                // the caller sees the crop's own exception, as with one thread
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
                throw;
            }
            finally
            {
                foreach (var c in detached.Where(d => d is not null).SelectMany(d => d)) c.Dispose();
            }
        }
        // crop-major, as dinov2's collate: every image's crop 0, then every image's crop 1, ...
        var globals = Enumerable.Range(0, MultiCropGeometry.GlobalCrops).SelectMany(c => perImage.Select(p => p[c])).ToList();
        var locals = Enumerable.Range(MultiCropGeometry.GlobalCrops, Geometry.LocalCrops).SelectMany(c => perImage.Select(p => p[c])).ToList();
        var globalCrops = Tensor.Stack(globals);
        var localCrops = locals.Count == 0 ? null : Tensor.Stack(locals);
        var grid = Geometry.GlobalSize / PatchSize;
        var generator = new BlockMaskGenerator(grid, grid) { MaxNumPatches = BlockMaskGenerator.ReferenceMaxPatches(Geometry.GlobalSize, PatchSize) };
        var maskRows = slots is null ? (int)globalCrops.Size(0) : MultiCropGeometry.GlobalCrops * globalImages;
        var masks = SslMaskBatch.Sample(maskRows, MaskRatio, MaskProbability, generator, DataRandom.Create(seed, 0x5353_4C4DUL, (ulong)step)).ToTensor();
        if (slots is not null)
        {
            // crop-major rows: global crop c of slot s is row c·G + s
            var rows = Enumerable.Range(0, MultiCropGeometry.GlobalCrops).SelectMany(c => slots.Select(s => (long)(c * globalImages + s))).ToArray();
            masks = masks.IndexSelect(0, Tensor.From<long>(rows, [rows.Length]));
        }
        return new DinoV2Batch(scope.MoveOut(globalCrops), localCrops is null ? null : scope.MoveOut(localCrops), scope.MoveOut(masks));
    }

    /// <summary>The 2 + L crops of one image (pixels, normalised), from the generator of (seed, step, position).</summary>
    private Tensor[] Crops(Tensor img, ulong seed, long step, long position)
    {
        // each crop op touches a few thousand pixels: split over intra-op threads it costs more than it saves (10–50×
        // more on a busy machine), so an image's crops are built on one thread
        using var threads = IntraOpThreads.AtMost(1);
        var rng = DataRandom.Create(seed, 0x5353_4C00UL, (ulong)step, (ulong)position);
        var crops = Geometry.Sample((int)img.Size(1), (int)img.Size(2), rng);
        var pixels = new Tensor[crops.Count];
        for (var c = 0; c < crops.Count; c++)
        {
            var crop = crops[c];
            var sample = SampleGeometry.ResizedCrop(new TransformSample(img), crop.Box, crop.Size, crop.Size, InterpolationMode.Bicubic);
            if (crop.Flip) sample = SampleGeometry.HFlip(sample);
            var kind = c == 0 ? SslCropKind.Global1 : c == 1 ? SslCropKind.Global2 : SslCropKind.Local;
            pixels[c] = DinoPhotometric.Apply(sample.Image, Photometric.Plan(kind, rng));
        }
        return pixels;
    }
}
