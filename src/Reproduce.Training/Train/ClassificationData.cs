using Reproduce.Torch;
using Reproduce.Training.Config;
using Reproduce.Vision.Data;

namespace Reproduce.Training.Train;

/// <summary>
/// A classification split the trainer reads by index: images already normalised [B, C, H, W] and int64 labels.
/// Supported datasets: <c>fashion-mnist</c> (Debian's IDX files; 28×28×1, normalised with the dataset's mean
/// 0.2860 and std 0.3530 — its eval transform, as the images are used at their native size).
/// </summary>
public sealed class ClassificationData
{
    private readonly FashionMnistSplit _split;

    private ClassificationData(FashionMnistSplit split, int count, int numClasses, string name)
    {
        (_split, Count, NumClasses, Name) = (split, count, numClasses, name);
    }

    /// <summary>Number of samples used (after the limit).</summary>
    public int Count { get; }
    /// <summary>Number of classes.</summary>
    public int NumClasses { get; }
    /// <summary>Dataset and split, for messages.</summary>
    public string Name { get; }

    /// <summary>The images and labels at <paramref name="indices"/>.</summary>
    public (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices) => _split.Batch(indices);

    /// <summary>Opens <paramref name="split"/> of the configured dataset, keeping the first <paramref name="limit"/> samples.</summary>
    public static ClassificationData Open(DataSection data, string split, int? limit)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Dataset != "fashion-mnist")
            throw new ConfigException($"data.dataset: '{data.Dataset}' is not supported by the classification trainer yet (supported: fashion-mnist)");
        if (data.Root is { } root && !Directory.Exists(root))
            throw new DirectoryNotFoundException($"data.root: dataset root '{root}' does not exist");
        var s = FashionMnist.Load(split, data.Root);
        var count = limit is { } l ? Math.Min(l, s.Count) : s.Count;
        return new ClassificationData(s, count, FashionMnistSplit.Classes.Length, $"fashion-mnist/{split}");
    }
}
