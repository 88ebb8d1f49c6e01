using Reproduce.Vision.Data.Loading;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Vision.Tests;

/// <summary>Loader determinism, sharding, last-batch policies, bounded prefetch and leak freedom (serial: counts live tensors).</summary>
[Collection(nameof(SerialTests))]
public sealed class DataLoaderTests
{
    private const int Count = 23;
    private static readonly ClassificationTrainTransform Train = new(12) { Crop = new RandomResizedCrop(12) { RandomInterpolation = true } };

    /// <summary>A synthetic uint8 image per index, through the full LV-ViT training pipeline.</summary>
    private static TransformSample Load(int index, Random rng)
    {
        var px = new byte[3 * 20 * 24];
        for (var i = 0; i < px.Length; i++) px[i] = (byte)((i * 7 + index * 31 + i / 24 * 5) % 256);
        var sample = new TransformSample(Tensor.From<byte>(px, [3, 20, 24])) { Label = index };
        return Train.Apply(sample, rng);
    }

    private static DataLoader<TransformSample, TensorBatch> Loader(LoaderOptions options) =>
        new(Count, Load, (samples, info) => Collate.Classification(samples, info), options);

    /// <summary>Every batch of an epoch as (labels, image bytes).</summary>
    private static List<(long[] Labels, byte[] Image)> Run(LoaderOptions options, int epoch)
    {
        var result = new List<(long[], byte[])>();
        foreach (var batch in Loader(options).Epoch(epoch))
            using (batch)
                result.Add((batch["label"].ToArray<long>(), batch["image"].ToBytes()));
        return result;
    }

    [Fact]
    public void BatchesAreIdenticalAcrossRunsAndWorkerCounts()
    {
        var baseline = new LoaderOptions { BatchSize = 5, Seed = 17, Workers = 0 };
        var reference = Run(baseline, 0);
        Assert.Equal(5, reference.Count);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => (long)i), reference.SelectMany(b => b.Labels).Order());
        foreach (var (workers, prefetch) in new[] { (1, 1), (3, 2), (4, 5) })
        {
            var other = Run(baseline with { Workers = workers, Prefetch = prefetch }, 0);
            Assert.Equal(reference.Count, other.Count);
            for (var b = 0; b < reference.Count; b++)
            {
                Assert.Equal(reference[b].Labels, other[b].Labels);
                Assert.True(reference[b].Image.AsSpan().SequenceEqual(other[b].Image), $"batch {b} differs with {workers} workers");
            }
        }
        // A new epoch reshuffles and re-augments; without shuffling the order is the identity.
        var epoch1 = Run(baseline with { Workers = 2 }, 1);
        Assert.NotEqual(reference[0].Labels, epoch1[0].Labels);
        var ordered = Run(baseline with { Shuffle = false, Workers = 2 }, 0);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => (long)i), ordered.SelectMany(b => b.Labels));
    }

    [Theory]
    [InlineData(false, 24)]
    [InlineData(true, 21)]
    public void ShardsAreDisjointAndCoverTheEpoch(bool dropUneven, int total)
    {
        var all = new List<int>();
        for (var rank = 0; rank < 3; rank++)
        {
            var plan = EpochPlan.Create(Count, 4, new LoaderOptions { BatchSize = 4, Seed = 3, Rank = rank, WorldSize = 3, DropUnevenShard = dropUneven });
            var slots = plan.Batches.SelectMany(b => b).ToArray();
            Assert.Equal(total / 3, slots.Length);
            all.AddRange(slots.Select(s => s.Index));
            Assert.Equal(slots.Length, slots.Select(s => s.Position).Distinct().Count());
        }
        Assert.Equal(total, all.Count);
        Assert.Equal(Math.Min(total, Count), all.Distinct().Count());
        if (!dropUneven) Assert.Single(all.GroupBy(i => i), g => g.Count() == 2); // one sample repeated to even out
    }

    [Fact]
    public void LastBatchPoliciesKeepDropOrPad()
    {
        LoaderOptions O(LastBatch p) => new() { BatchSize = 5, Seed = 1, LastBatch = p };
        var keep = EpochPlan.Create(Count, 0, O(LastBatch.Keep));
        var drop = EpochPlan.Create(Count, 0, O(LastBatch.Drop));
        var pad = EpochPlan.Create(Count, 0, O(LastBatch.Pad));
        Assert.Equal([5, 5, 5, 5, 3], keep.Batches.Select(b => b.Length));
        Assert.Equal([5, 5, 5, 5], drop.Batches.Select(b => b.Length));
        Assert.Equal([5, 5, 5, 5, 5], pad.Batches.Select(b => b.Length));
        Assert.Equal(3, pad.RealCounts[4]);
        // Padding repeats the epoch's first samples but with fresh positions (fresh augmentation).
        Assert.Equal(pad.Batches[0].Take(2).Select(s => s.Index), pad.Batches[4].Skip(3).Select(s => s.Index));
        Assert.Equal(25, pad.Batches.SelectMany(b => b).Select(s => s.Position).Distinct().Count());
    }

    [Fact]
    public void PrefetchIsBoundedAndNothingLeaks()
    {
        var start = Tensor.LiveCount;
        var built = 0;
        var consumed = 0;
        var maxAhead = 0;
        var options = new LoaderOptions { BatchSize = 2, Seed = 5, Workers = 3, Prefetch = 2 };
        var loader = new DataLoader<TransformSample, TensorBatch>(Count, Load, (samples, info) =>
        {
            var b = Collate.Classification(samples, info);
            var ahead = Interlocked.Increment(ref built) - Volatile.Read(ref consumed);
            InterlockedMax(ref maxAhead, ahead);
            return b;
        }, options);
        var delivered = 0;
        foreach (var batch in loader.Epoch(0))
        {
            using (batch)
            {
                Interlocked.Increment(ref consumed);
                Assert.Equal(delivered, batch.Info.Number);
                delivered++;
                Thread.Sleep(5); // a slow consumer: workers must wait for queue slots
            }
        }
        Assert.Equal(12, delivered);
        // Built but not yet received ≤ Prefetch (+1: the consumer counts a batch just after its queue slot is freed).
        Assert.True(maxAhead <= options.Prefetch + 1, $"{maxAhead} batches were built ahead of the consumer (prefetch {options.Prefetch})");
        Assert.Equal(start, Tensor.LiveCount);
    }

    [Fact]
    public void LeavingEarlyCancellingOrFailingFreesEverything()
    {
        var start = Tensor.LiveCount;
        var loader = Loader(new LoaderOptions { BatchSize = 3, Seed = 8, Workers = 3, Prefetch = 3 });
        foreach (var batch in loader.Epoch(0))
        {
            batch.Dispose();
            break; // workers are mid-epoch with batches queued
        }
        Assert.Equal(start, Tensor.LiveCount);

        using var cts = new CancellationTokenSource();
        var seen = 0;
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var batch in loader.Epoch(1, cts.Token))
            {
                batch.Dispose();
                if (++seen == 2) cts.Cancel();
            }
        });
        Assert.Equal(start, Tensor.LiveCount);

        var failing = new DataLoader<TransformSample, TensorBatch>(Count,
            (i, rng) => i == 13 ? throw new InvalidDataException("corrupt image 13") : Load(i, rng),
            (samples, info) => Collate.Classification(samples, info),
            new LoaderOptions { BatchSize = 4, Shuffle = false, Workers = 2 });
        var e = Assert.Throws<DataLoaderException>(() =>
        {
            foreach (var batch in failing.Epoch(0)) batch.Dispose();
        });
        Assert.Contains("batch 3", e.Message);
        Assert.Contains("13", e.Message);
        Assert.Contains("corrupt image 13", e.Message);
        Assert.Equal(start, Tensor.LiveCount);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
