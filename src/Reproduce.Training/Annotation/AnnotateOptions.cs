namespace Reproduce.Training.Annotation;

/// <summary>What <see cref="Annotator.Run"/> annotates and how.</summary>
/// <param name="Model">Registered teacher model (one with dense score maps, e.g. <c>resnet_tiny_fm28</c>, <c>resnet50</c>).</param>
/// <param name="Weights">Trained weights (safetensors or a torch.save checkpoint, <c>FILE#ENTRY</c> to pick an entry; loaded strictly).</param>
/// <param name="Dataset">One of <see cref="Datasets"/>: <c>fashion-mnist</c>, <c>fashion-objects</c> or <c>imagenet</c>.</param>
/// <param name="Root">Dataset root (fashion-mnist and fashion-objects: the Fashion-MNIST IDX folder, default Debian's; imagenet: the folder holding train/ and val/).</param>
/// <param name="Split">Split to annotate (fashion-mnist, fashion-objects: train or test; imagenet: train or val).</param>
/// <param name="Resolution">Side R of the square input: shorter side resized to R, center crop R×R (fashion-objects is rendered at R×R, as the trainer renders it at the model's size).</param>
/// <param name="TopK">Classes kept per location.</param>
/// <param name="Output">Token-label store to write (atomically).</param>
/// <param name="Limit">Annotate only the first N images (smoke runs); null = all.</param>
/// <param name="BatchSize">Images per forward.</param>
/// <param name="Workers">Threads decoding and transforming batches ahead of the teacher (0 = on its thread); the store does not depend on it.</param>
public sealed record AnnotateOptions(string Model, string Weights, string Dataset, string? Root, string Split, int Resolution, int TopK,
    string Output, int? Limit = null, int BatchSize = 64, int Workers = 2)
{
    /// <summary>The datasets <see cref="Annotator.Run"/> reads.</summary>
    public static readonly IReadOnlyList<string> Datasets = ["fashion-mnist", "fashion-objects", "imagenet"];

    /// <summary>Throws <see cref="AnnotationException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (!Datasets.Contains(Dataset))
            throw new AnnotationException($"annotate: unknown dataset '{Dataset}' (valid: {string.Join(", ", Datasets)})");
        if (Resolution < 1) throw new AnnotationException($"annotate: --resolution must be positive, got {Resolution}");
        if (TopK < 1) throw new AnnotationException($"annotate: --topk must be positive, got {TopK}");
        if (Limit is < 1) throw new AnnotationException($"annotate: --limit must be positive, got {Limit}");
        if (Workers < 0) throw new AnnotationException($"annotate: --workers must be ≥ 0, got {Workers}");
        if (BatchSize < 1) throw new AnnotationException($"annotate: --batch must be positive, got {BatchSize}");
        if (!Checkpoints.Released.WeightsFile.Exists(Weights)) throw new AnnotationException($"annotate: weights file {Weights} does not exist");
        if (Root is { } root && !Directory.Exists(root)) throw new AnnotationException($"annotate: --root '{root}' does not exist");
    }
}
