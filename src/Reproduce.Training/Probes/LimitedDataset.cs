using Reproduce.Vision.Data.Datasets;

namespace Reproduce.Training.Probes;

/// <summary>The first <see cref="Count"/> samples of another dataset (<c>data.train_limit</c> / <c>data.eval_limit</c>).</summary>
/// <typeparam name="T">Sample type.</typeparam>
public sealed class LimitedDataset<T> : IImageDataset<T> where T : IDisposable
{
    private readonly IImageDataset<T> _inner;

    /// <summary>Wraps <paramref name="inner"/>, keeping at most <paramref name="limit"/> samples (null = all).</summary>
    public LimitedDataset(IImageDataset<T> inner, int? limit)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (limit is <= 0) throw new ArgumentException($"{inner.Name}: a sample limit must be positive (got {limit})");
        _inner = inner;
        Count = Math.Min(inner.Count, limit ?? int.MaxValue);
    }

    /// <inheritdoc/>
    public string Name => _inner.Name;
    /// <inheritdoc/>
    public int Count { get; }
    /// <inheritdoc/>
    public IReadOnlyList<DataProblem> Problems => _inner.Problems;

    /// <inheritdoc/>
    public T Load(int index) => index >= 0 && index < Count ? _inner.Load(index)
        : throw new ArgumentOutOfRangeException(nameof(index), $"{Name}: index {index} outside 0..{Count - 1}");

    /// <inheritdoc/>
    public DataProblem? Check(int index, bool decode = true) => _inner.Check(index, decode);
}
