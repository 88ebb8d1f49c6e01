using Reproduce.Training.Config;
using Reproduce.Training.Pretraining;
using Reproduce.Vision.Data.Loading;

namespace Reproduce.Training.Train;

/// <summary>
/// Which training samples each step of an epoch takes on this rank: the seeded per-epoch permutation sharded as torch's
/// DistributedSampler (<see cref="EpochPlan.Create"/>), or — with <c>data.repeated_aug</c> = k &gt; 0 — DeiT's RASampler
/// (<see cref="RepeatedAugmentationSampler"/>, k repeats, the loader's world size and rank, seeded with
/// <c>seed</c> + epoch, so seed 0 gives the reference's order). Both drop the last partial batch.
/// </summary>
internal static class TrainSampling
{
    /// <summary>The batches of <paramref name="epoch"/> over <paramref name="count"/> training samples.</summary>
    public static EpochPlan Plan(RunConfig config, int count, long epoch, LoaderOptions loader) =>
        config.Data.RepeatedAug > 0
            ? EpochPlan.FromSlots(Sampler(config, count, loader).Slots(checked((int)epoch)), loader.BatchSize)
            : EpochPlan.Create(count, (int)epoch, loader);

    /// <summary>Samples per epoch on this rank (before batching); <paramref name="shardCount"/> is the plain sampler's.</summary>
    public static int SamplesPerEpoch(RunConfig config, int count, LoaderOptions loader, int shardCount) =>
        config.Data.RepeatedAug > 0 ? Sampler(config, count, loader).NumSelected : shardCount;

    private static RepeatedAugmentationSampler Sampler(RunConfig config, int count, LoaderOptions loader) =>
        new(count, loader.WorldSize, loader.Rank, config.Data.RepeatedAug, Shuffle: true, Seed: config.Seed);
}
