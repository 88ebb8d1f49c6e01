using Reproduce.Torch;

namespace Reproduce.Vision.Data.Loading;

/// <summary>Where a batch came from.</summary>
/// <param name="Epoch">The epoch.</param>
/// <param name="Number">The batch's number within the epoch.</param>
/// <param name="Slots">Dataset index and epoch position of every sample.</param>
/// <param name="RealCount">Samples that are not padding (the first RealCount).</param>
public sealed record BatchInfo(int Epoch, int Number, IReadOnlyList<SampleSlot> Slots, int RealCount);

/// <summary>
/// A batch a loader hands from its worker thread to the consumer. Its tensors belong to no scope (the
/// worker detached them): the consumer owns them and frees them by disposing the batch.
/// </summary>
public interface ITensorBatch : IDisposable
{
    /// <summary>Every tensor the batch owns.</summary>
    IEnumerable<Tensor> Tensors { get; }
}

/// <summary>A batch of named tensors, e.g. "image" [B,C,H,W], "label" [B], "token_target" [B,1+N,C].</summary>
public sealed class TensorBatch : ITensorBatch
{
    private readonly Dictionary<string, Tensor> _tensors;

    /// <summary>Wraps <paramref name="tensors"/> (ownership passes to the batch).</summary>
    public TensorBatch(IReadOnlyDictionary<string, Tensor> tensors, BatchInfo info)
    {
        _tensors = new Dictionary<string, Tensor>(tensors, StringComparer.Ordinal);
        Info = info;
    }

    /// <summary>Origin of the batch.</summary>
    public BatchInfo Info { get; }

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    public Tensor this[string name] => _tensors.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"batch has no tensor '{name}' (it has {string.Join(", ", _tensors.Keys)})");

    /// <summary>True when the batch holds <paramref name="name"/>.</summary>
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>Names of the tensors.</summary>
    public IEnumerable<string> Names => _tensors.Keys;

    /// <inheritdoc/>
    public IEnumerable<Tensor> Tensors => _tensors.Values;

    /// <summary>Frees every tensor.</summary>
    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
    }
}
