namespace Reproduce.Vision.Data.Loading;

/// <summary>What happens to a final batch with fewer than BatchSize samples.</summary>
public enum LastBatch
{
    /// <summary>Deliver it smaller.</summary>
    Keep,
    /// <summary>Skip it.</summary>
    Drop,
    /// <summary>Fill it up by wrapping around to the start of this rank's order (the filler is marked in <see cref="BatchInfo.RealCount"/>).</summary>
    Pad,
}

/// <summary>
/// Loader settings. The samples of every batch are a pure function of (Seed, epoch, Rank,
/// WorldSize, BatchSize): neither <see cref="Workers"/> nor thread timing changes them.
/// </summary>
public sealed record LoaderOptions
{
    /// <summary>Samples per batch (per rank).</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Reshuffle the order every epoch (seeded by Seed and the epoch).</summary>
    public bool Shuffle { get; init; } = true;
    /// <summary>Seed of shuffling and of every sample's augmentation RNG.</summary>
    public ulong Seed { get; init; }
    /// <summary>Worker threads decoding and augmenting; 0 builds batches on the consumer's thread.</summary>
    public int Workers { get; init; } = 2;
    /// <summary>Batches built ahead of the consumer (the bounded queue's capacity).</summary>
    public int Prefetch { get; init; } = 2;
    /// <summary>Policy for the final partial batch.</summary>
    public LastBatch LastBatch { get; init; } = LastBatch.Keep;
    /// <summary>This process's rank in data-parallel training.</summary>
    public int Rank { get; init; }
    /// <summary>Number of data-parallel ranks; each sees a disjoint 1/WorldSize share of every epoch.</summary>
    public int WorldSize { get; init; } = 1;
    /// <summary>
    /// torch DistributedSampler's drop_last: true trims the epoch to a multiple of WorldSize; false pads
    /// it by repeating the first samples so every rank gets the same count.
    /// </summary>
    public bool DropUnevenShard { get; init; }

    /// <summary>Throws on inconsistent settings.</summary>
    public LoaderOptions Validate()
    {
        if (BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(BatchSize), $"LoaderOptions: batch size must be positive, got {BatchSize}");
        if (Workers < 0) throw new ArgumentOutOfRangeException(nameof(Workers), $"LoaderOptions: workers must be ≥ 0, got {Workers}");
        if (Prefetch <= 0) throw new ArgumentOutOfRangeException(nameof(Prefetch), $"LoaderOptions: prefetch must be positive, got {Prefetch}");
        if (WorldSize <= 0 || Rank < 0 || Rank >= WorldSize)
            throw new ArgumentOutOfRangeException(nameof(Rank), $"LoaderOptions: rank {Rank} is outside 0..{WorldSize - 1} (world size {WorldSize})");
        return this;
    }
}
