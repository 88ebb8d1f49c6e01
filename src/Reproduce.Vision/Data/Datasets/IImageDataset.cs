namespace Reproduce.Vision.Data.Datasets;

/// <summary>
/// A dataset on disk, opened by scanning its layout. Samples whose files are missing or whose list lines
/// are malformed are left out and reported in <see cref="Problems"/>; the rest are indexed 0..Count−1.
/// Content problems (corrupt images, out-of-range labels, size mismatches) show up when a sample is
/// loaded or checked.
/// </summary>
/// <typeparam name="TSample">What <see cref="Load"/> returns; it owns its tensors.</typeparam>
public interface IImageDataset<out TSample> where TSample : IDisposable
{
    /// <summary>Dataset and split, for messages, e.g. "ade20k/validation".</summary>
    string Name { get; }

    /// <summary>Number of samples that passed the layout scan.</summary>
    int Count { get; }

    /// <summary>Problems found while scanning the layout (in file order).</summary>
    IReadOnlyList<DataProblem> Problems { get; }

    /// <summary>
    /// Decodes sample <paramref name="index"/>; tensors are created in the caller's current scope.
    /// Throws <see cref="InvalidDataException"/> whose message starts with the offending file's path.
    /// </summary>
    TSample Load(int index);

    /// <summary>
    /// Checks sample <paramref name="index"/>: with <paramref name="decode"/> by loading it, otherwise from
    /// file headers only (existence, format, size, channels, bit depth). Null when it is fine.
    /// </summary>
    DataProblem? Check(int index, bool decode = true);
}
