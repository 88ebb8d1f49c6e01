using Reproduce.Training.Pretraining;
using static Reproduce.Training.Tests.Pretraining.SslFixture;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>DeiT's RASampler against tests/fixtures/ssl/rasampler.json (gen_rasampler.py, Debian's PyTorch).</summary>
public sealed class RepeatedAugmentationSamplerTests
{
    [Fact]
    public void YieldsTheReferenceIndicesForEverySeedWorldSizeAndRank()
    {
        var cases = Load("rasampler").GetProperty("cases").EnumerateArray().ToList();
        Assert.NotEmpty(cases);
        foreach (var c in cases)
        {
            var s = new RepeatedAugmentationSampler(c.GetProperty("n").GetInt32(), c.GetProperty("world").GetInt32(),
                c.GetProperty("rank").GetInt32(), c.GetProperty("repeats").GetInt32(), c.GetProperty("shuffle").GetBoolean());
            var slots = s.Slots(c.GetProperty("epoch").GetInt32());
            var expected = Longs(c.GetProperty("indices"));
            Assert.Equal(expected.Length, s.NumSelected);
            Assert.True(expected.SequenceEqual(slots.Select(x => (long)x.Index)),
                $"n={s.Count} world={s.WorldSize} rank={s.Rank} epoch={c.GetProperty("epoch").GetInt32()}: indices differ");
        }
    }

    [Fact]
    public void RanksSeeDifferentCopiesAndPositionsAreDistinct()
    {
        // with k = W = 3 consecutive copies of an image go to the three ranks
        var ranks = Enumerable.Range(0, 3).Select(r => new RepeatedAugmentationSampler(768, 3, r).Slots(4)).ToList();
        for (var i = 0; i < ranks[0].Count; i++)
        {
            Assert.Equal(ranks[0][i].Index, ranks[1][i].Index);
            Assert.Equal(ranks[0][i].Index, ranks[2][i].Index);
        }
        var positions = ranks.SelectMany(r => r.Select(s => s.Position)).ToList();
        Assert.Equal(positions.Count, positions.Distinct().Count());
        // a seed offset changes the order; seed 0 is the reference's
        Assert.NotEqual(ranks[0].Select(s => s.Index), new RepeatedAugmentationSampler(768, 3, 0, Seed: 1).Slots(4).Select(s => s.Index));
    }

    [Fact]
    public void BadSettingsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RepeatedAugmentationSampler(10, 2, 2).Slots(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RepeatedAugmentationSampler(10, Repeats: 0).Slots(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RepeatedAugmentationSampler(0).Slots(0));
    }
}
