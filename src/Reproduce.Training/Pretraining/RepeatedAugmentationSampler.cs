using Reproduce.Torch;
using Reproduce.Vision.Data.Loading;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// DeiT's repeated-augmentation sampler (Hoffer et al. 2020; facebookresearch/deit <c>samplers.RASampler</c>),
/// used by DeiT and DeiT III with 3 repeats: every image appears <see cref="Repeats"/> times in a row of the epoch
/// order, and the ranks take interleaved positions, so the copies land on different ranks, each with its own
/// augmentation. For a dataset of n images, world size W and epoch e:
/// <code>
/// order     = randperm(n) from a torch generator seeded with seed + e     (seed 0: the reference, which seeds with e)
/// repeated  = each index of order k times in a row, then the front repeated up to ⌈n·k/W⌉·W entries
/// rank r    = repeated[r], repeated[r + W], …, cut to ⌊⌊n/256⌋·256 / W⌋ entries
/// </code>
/// The cut keeps the epoch as long as one pass over the (multiple of 256) dataset, so an epoch shows ~n/k distinct
/// images. The permutation comes from libtorch's <c>randperm</c>, so the order equals the reference's on the same
/// libtorch version.
/// </summary>
public sealed record RepeatedAugmentationSampler(int Count, int WorldSize = 1, int Rank = 0, int Repeats = 3, bool Shuffle = true, long Seed = 0)
{
    /// <summary>⌈n·k/W⌉: this rank's share of the padded repeated order.</summary>
    public int NumSamples => checked((int)Math.Ceiling((double)Count * Repeats / WorldSize));

    /// <summary>⌊⌊n/256⌋·256 / W⌋: the samples this rank yields per epoch (the reference's <c>__len__</c>).</summary>
    public int NumSelected => Count / 256 * 256 / WorldSize;

    /// <summary>The slots of epoch <paramref name="epoch"/> on this rank; a slot's position is its place in the padded repeated order.</summary>
    public IReadOnlyList<SampleSlot> Slots(int epoch)
    {
        Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        int[] order;
        if (Shuffle)
        {
            using var scope = Scope.Enter();
            using var g = new Generator(unchecked((ulong)(Seed + epoch)));
            order = Torch.Torch.Randperm(Count, g).ToArray<long>().Select(i => (int)i).ToArray();
        }
        else order = Enumerable.Range(0, Count).ToArray();
        var repeatedLength = (long)Count * Repeats;
        var total = (long)NumSamples * WorldSize;
        var slots = new List<SampleSlot>(NumSelected);
        for (long pos = Rank; pos < total && slots.Count < NumSelected; pos += WorldSize)
        {
            // padding repeats the front of the repeated order
            slots.Add(new SampleSlot(order[pos % repeatedLength / Repeats], pos));
        }
        return slots;
    }

    private void Validate()
    {
        if (Count <= 0) throw new ArgumentOutOfRangeException(nameof(Count), Count, "repeated augmentation: the dataset is empty");
        if (Repeats < 1) throw new ArgumentOutOfRangeException(nameof(Repeats), Repeats, "repeated augmentation: repeats must be at least 1");
        if (WorldSize < 1 || Rank < 0 || Rank >= WorldSize)
            throw new ArgumentOutOfRangeException(nameof(Rank), Rank, $"repeated augmentation: rank {Rank} is not in a world of {WorldSize}");
    }
}
