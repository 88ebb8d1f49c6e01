using System.Globalization;
using System.Text.Json.Nodes;
using Reproduce.Torch;

namespace Reproduce.Vision.Metrics;

/// <summary>
/// Top-k classification accuracy accumulated over a dataset, as timm's <c>accuracy(output, target, topk)</c>
/// (timm/utils/metrics.py) averaged the way validate.py does it (per-batch values weighted by batch size,
/// which is the global fraction):
/// <code>
/// maxk      = min(max(ks), C)
/// correct_k = Σ_i [ y_i ∈ the first min(k, maxk) indices of topk(logits_i, maxk) ]
/// top-k     = 100 · Σ_batches correct_k / Σ_batches B
/// </code>
/// With k ≥ C every sample counts as correct (as in timm). Ties between equal logits are broken by libtorch's
/// <c>topk</c>, the same kernel timm uses.
/// </summary>
public sealed class TopKAccuracy
{
    private readonly long[] _correct;

    /// <summary>Accumulates top-k for each of <paramref name="ks"/> (default: top-1 and top-5).</summary>
    public TopKAccuracy(params int[] ks)
    {
        ArgumentNullException.ThrowIfNull(ks);
        if (ks.Length == 0) ks = [1, 5];
        foreach (var k in ks)
            if (k < 1) throw new ArgumentException($"TopKAccuracy: k must be at least 1 (got {k})", nameof(ks));
        if (ks.Distinct().Count() != ks.Length) throw new ArgumentException($"TopKAccuracy: duplicate k in [{string.Join(", ", ks)}]", nameof(ks));
        Ks = ks.ToArray();
        _correct = new long[ks.Length];
    }

    /// <summary>The k values, in the order given.</summary>
    public IReadOnlyList<int> Ks { get; }

    /// <summary>Samples seen so far.</summary>
    public long Count { get; private set; }

    /// <summary>Per k (in the order of <see cref="Ks"/>), the samples whose target is among the top k so far.</summary>
    public IReadOnlyList<long> Correct => _correct;

    /// <summary>
    /// Adds one batch: <paramref name="logits"/> [B, C] (any floating dtype, any device) and integer class
    /// indices <paramref name="target"/> [B] in [0, C). Throws naming the shapes when they disagree, and the
    /// offending value when a target is outside [0, C).
    /// </summary>
    public void Update(Tensor logits, Tensor target)
    {
        var counts = CountCorrect(logits, target, Ks);
        for (var i = 0; i < counts.Length; i++) _correct[i] += counts[i];
        Count += logits.Size(0);
    }

    /// <summary>Adds the counts of another accumulator with the same k values (e.g. from another process).</summary>
    public void Merge(TopKAccuracy other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!other.Ks.SequenceEqual(Ks))
            throw new ArgumentException($"TopKAccuracy.Merge: k values differ ([{string.Join(", ", Ks)}] vs [{string.Join(", ", other.Ks)}])");
        for (var i = 0; i < _correct.Length; i++) _correct[i] += other._correct[i];
        Count += other.Count;
    }

    /// <summary>The accuracies so far (percent; NaN before any sample).</summary>
    public TopKResult Result()
    {
        var acc = new Dictionary<int, double>();
        for (var i = 0; i < Ks.Count; i++) acc[Ks[i]] = Count == 0 ? double.NaN : 100.0 * _correct[i] / Count;
        return new TopKResult(acc, Count);
    }

    /// <summary>Top-k accuracies (percent) of one batch, in the order of <paramref name="ks"/>.</summary>
    public static double[] Compute(Tensor logits, Tensor target, params int[] ks)
    {
        var counts = CountCorrect(logits, target, ks);
        var b = logits.Size(0);
        return counts.Select(c => b == 0 ? double.NaN : 100.0 * c / b).ToArray();
    }

    private static long[] CountCorrect(Tensor logits, Tensor target, IReadOnlyList<int> ks)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(target);
        if (logits.Dim != 2) throw new ArgumentException($"TopKAccuracy: logits must be [B, C], got {logits.Describe()}");
        if (target.Dim != 1 || target.Size(0) != logits.Size(0))
            throw new ArgumentException($"TopKAccuracy: target must be [B] with B = {logits.Size(0)} (logits {logits.Describe()}), got {target.Describe()}");
        if (target.DType.IsFloatingPoint() || target.DType == ScalarType.Bool)
            throw new ArgumentException($"TopKAccuracy: target must hold integer class indices, got {target.Describe()}");
        var b = logits.Size(0);
        var c = logits.Size(1);
        var result = new long[ks.Count];
        if (b == 0) return result;
        using var scope = Scope.Enter();
        using var noGrad = Torch.Torch.NoGrad();
        var y = target.To(Device.Cpu, ScalarType.Int64);
        var lo = y.Min().ToInt64();
        var hi = y.Max().ToInt64();
        if (lo < 0 || hi >= c)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"TopKAccuracy: target holds class {(lo < 0 ? lo : hi)} but the logits have {c} classes (valid: 0..{c - 1})"));
        var maxk = (int)Math.Min(ks.Max(), c);
        var (_, idx) = logits.Detach().TopK(maxk, dim: 1);
        var hit = idx.To(Device.Cpu).Eq(y.Unsqueeze(1));
        for (var i = 0; i < ks.Count; i++)
            result[i] = hit.Narrow(1, 0, Math.Min(ks[i], maxk)).Sum(ScalarType.Int64).ToInt64();
        return result;
    }
}

/// <summary>Top-k accuracies (percent) over <see cref="Count"/> samples.</summary>
/// <param name="Accuracy">k → accuracy in percent (NaN when no sample was seen).</param>
/// <param name="Count">Number of samples.</param>
public sealed record TopKResult(IReadOnlyDictionary<int, double> Accuracy, long Count)
{
    /// <summary>Top-1 accuracy (percent).</summary>
    public double Top1 => Accuracy.TryGetValue(1, out var v) ? v : throw new InvalidOperationException("top-1 was not accumulated");

    /// <summary>Top-5 accuracy (percent).</summary>
    public double Top5 => Accuracy.TryGetValue(5, out var v) ? v : throw new InvalidOperationException("top-5 was not accumulated");

    /// <summary><c>{"top1": …, "top5": …}</c> (one <c>top{k}</c> key per k; NaN written as null).</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject();
        foreach (var (k, v) in Accuracy.OrderBy(kv => kv.Key))
            o["top" + k.ToString(CultureInfo.InvariantCulture)] = MetricJson.Number(v);
        return o;
    }
}
