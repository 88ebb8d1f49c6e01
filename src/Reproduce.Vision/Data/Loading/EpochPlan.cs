namespace Reproduce.Vision.Data.Loading;

/// <summary>One sample slot of a batch: the dataset index and the slot's position in the epoch.</summary>
/// <param name="Index">Dataset index to load.</param>
/// <param name="Position">Position in the (padded) epoch order; seeds the sample's augmentation RNG.</param>
public readonly record struct SampleSlot(int Index, long Position);

/// <summary>
/// Which samples each batch of one epoch holds on one rank. Order: a seeded permutation per epoch
/// (or 0…N−1); sharding as torch's DistributedSampler (pad by repeating the start, or trim, to a
/// multiple of the world size, then rank r takes positions r, r + W, r + 2W, …); then batches of
/// BatchSize with the <see cref="LastBatch"/> policy.
/// </summary>
public sealed class EpochPlan
{
    private EpochPlan(SampleSlot[][] batches, int[] realCounts)
    {
        Batches = batches;
        RealCounts = realCounts;
    }

    /// <summary>The batches in delivery order.</summary>
    public IReadOnlyList<SampleSlot[]> Batches { get; }

    /// <summary>Per batch, how many slots are real samples (the rest are padding under <see cref="LastBatch.Pad"/>).</summary>
    public IReadOnlyList<int> RealCounts { get; }

    /// <summary>
    /// A plan over an order another sampler chose (e.g. repeated augmentation): <paramref name="slots"/> in batches of
    /// <paramref name="batchSize"/>, the last partial batch dropped (the trainer's <see cref="LastBatch.Drop"/>).
    /// </summary>
    public static EpochPlan FromSlots(IReadOnlyList<SampleSlot> slots, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(slots);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var batches = Enumerable.Range(0, slots.Count / batchSize).Select(b => slots.Skip(b * batchSize).Take(batchSize).ToArray()).ToArray();
        return new EpochPlan(batches, batches.Select(_ => batchSize).ToArray());
    }

    /// <summary>The plan for <paramref name="epoch"/> over a dataset of <paramref name="count"/> samples.</summary>
    public static EpochPlan Create(int count, int epoch, LoaderOptions options)
    {
        options.Validate();
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), $"EpochPlan: dataset size {count} is negative");
        var order = options.Shuffle
            ? DataRandom.Create(options.Seed, 0x5348_5546UL, (ulong)epoch).Permutation(count)
            : Enumerable.Range(0, count).ToArray();

        // Shard: pad (repeat from the start, cyclically) or trim to a multiple of the world size.
        var world = options.WorldSize;
        long total = options.DropUnevenShard ? count / world * world : (count + world - 1) / world * world;
        var shard = new List<SampleSlot>();
        for (long pos = options.Rank; pos < total; pos += world)
            shard.Add(new SampleSlot(order[(int)(pos % Math.Max(1, count))], pos));

        var bs = options.BatchSize;
        var batches = new List<SampleSlot[]>();
        var real = new List<int>();
        for (var start = 0; start < shard.Count; start += bs)
        {
            var n = Math.Min(bs, shard.Count - start);
            if (n < bs && options.LastBatch == LastBatch.Drop) break;
            var slots = new List<SampleSlot>(bs);
            slots.AddRange(shard.Skip(start).Take(n));
            if (n < bs && options.LastBatch == LastBatch.Pad)
                for (var k = 0; slots.Count < bs; k++)
                    slots.Add(new SampleSlot(shard[k % shard.Count].Index, total + (long)k * world + options.Rank));
            batches.Add(slots.ToArray());
            real.Add(n);
        }
        return new EpochPlan(batches.ToArray(), real.ToArray());
    }
}
