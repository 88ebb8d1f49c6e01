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

    /// <summary>The batch of <paramref name="images"/> (uint8 [C, H, W] each) for optimizer step <paramref name="step"/>.</summary>
    public DinoV2Batch Build(IReadOnlyList<Tensor> images, IReadOnlyList<long> positions, ulong seed, long step)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(positions);
        if (images.Count == 0 || images.Count != positions.Count)
            throw new ArgumentException($"DINOv2 batch: {images.Count} images and {positions.Count} positions; need the same positive number");
        if (Geometry.GlobalSize % PatchSize != 0)
            throw new ArgumentException($"DINOv2 batch: global crop size {Geometry.GlobalSize} is not a multiple of the patch size {PatchSize}");
        using var scope = Scope.Enter();
        // each crop op touches a few thousand pixels: split over intra-op threads it costs more than it saves (10–50×
        // more on a busy machine), so the batch is built on this thread alone
        using var threads = IntraOpThreads.AtMost(1);
        var globals = new List<Tensor>[MultiCropGeometry.GlobalCrops];
        for (var g = 0; g < globals.Length; g++) globals[g] = [];
        var locals = new List<Tensor>[Geometry.LocalCrops];
        for (var l = 0; l < locals.Length; l++) locals[l] = [];
        for (var i = 0; i < images.Count; i++)
        {
            var img = images[i];
            var rng = DataRandom.Create(seed, 0x5353_4C00UL, (ulong)step, (ulong)positions[i]);
            var crops = Geometry.Sample((int)img.Size(1), (int)img.Size(2), rng);
            for (var c = 0; c < crops.Count; c++)
            {
                var crop = crops[c];
                var sample = SampleGeometry.ResizedCrop(new TransformSample(img), crop.Box, crop.Size, crop.Size, InterpolationMode.Bicubic);
                if (crop.Flip) sample = SampleGeometry.HFlip(sample);
                var kind = c == 0 ? SslCropKind.Global1 : c == 1 ? SslCropKind.Global2 : SslCropKind.Local;
                var pixels = DinoPhotometric.Apply(sample.Image, Photometric.Plan(kind, rng));
                (crop.Global ? globals[c] : locals[c - MultiCropGeometry.GlobalCrops]).Add(pixels);
            }
        }
        var globalCrops = Tensor.Stack(globals.SelectMany(x => x).ToList());
        var localCrops = locals.Length == 0 ? null : Tensor.Stack(locals.SelectMany(x => x).ToList());
        var grid = Geometry.GlobalSize / PatchSize;
        var generator = new BlockMaskGenerator(grid, grid) { MaxNumPatches = BlockMaskGenerator.ReferenceMaxPatches(Geometry.GlobalSize, PatchSize) };
        var masks = SslMaskBatch.Sample((int)globalCrops.Size(0), MaskRatio, MaskProbability, generator,
            DataRandom.Create(seed, 0x5353_4C4DUL, (ulong)step)).ToTensor();
        return new DinoV2Batch(scope.MoveOut(globalCrops), localCrops is null ? null : scope.MoveOut(localCrops), scope.MoveOut(masks));
    }
}
