using Reproduce.Training.Pretraining;
using Reproduce.Vision.Data;
using static Reproduce.Training.Tests.Pretraining.SslFixture;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>
/// iBOT block masking against tests/fixtures/ssl/masking.json (gen_masking.py). Python's random stream differs from
/// .NET's, so the reference's recorded draws are replayed (<see cref="ReplayRandom"/>): the same draws must give the
/// same masks, requested counts and upper bound, step by step. With .NET's own generator the invariants are checked.
/// </summary>
public sealed class SslMaskingTests
{
    [Fact]
    public void ReplayedDrawsGiveTheReferenceMasks()
    {
        foreach (var c in Load("masking").GetProperty("cases").EnumerateArray())
        {
            var (img, patch, grid) = (c.GetProperty("image").GetInt32(), c.GetProperty("patch").GetInt32(), c.GetProperty("grid").GetInt32());
            Assert.Equal(c.GetProperty("max_patches").GetDouble(), BlockMaskGenerator.ReferenceMaxPatches(img, patch));
            var generator = new BlockMaskGenerator(grid, grid) { MaxNumPatches = BlockMaskGenerator.ReferenceMaxPatches(img, patch) };
            var ratio = Doubles(c.GetProperty("ratio"));
            var batch = c.GetProperty("batch").GetInt32();
            var p = c.GetProperty("probability").GetDouble();
            var linspace = SslMaskBatch.Linspace32((float)ratio[0], (float)ratio[1], (int)(batch * p) + 1);
            Assert.Equal(Doubles(c.GetProperty("linspace")), linspace.Select(x => (double)x).ToArray());
            var rng = new ReplayRandom(c.GetProperty("draws"));
            var masks = SslMaskBatch.Sample(batch, (ratio[0], ratio[1]), p, generator, rng);
            Assert.Equal(0, rng.Remaining);
            Assert.Equal(c.GetProperty("upperbound").GetInt32(), masks.UpperBound);
            Assert.Equal(Longs(c.GetProperty("masks")), masks.Masks.Select(m => m ? 1L : 0L).ToArray());
        }
    }

    [Fact]
    public void DotNetDrawsKeepTheReferenceInvariants()
    {
        const int grid = 14, batch = 64;
        var generator = new BlockMaskGenerator(grid, grid) { MaxNumPatches = BlockMaskGenerator.ReferenceMaxPatches(224, 16) };
        var m = SslMaskBatch.Sample(batch, (0.1, 0.5), 0.5, generator, DataRandom.Create(5));
        var counts = Enumerable.Range(0, batch).Select(b => m.Masks.Skip(b * grid * grid).Take(grid * grid).Count(x => x)).ToArray();
        // half the crops are masked, each with at most its ratio-range share of the 196 patches; the rest are empty
        Assert.Equal(batch / 2, counts.Count(x => x == 0));
        Assert.All(counts, x => Assert.InRange(x, 0, (int)(0.5 * grid * grid)));
        Assert.True(counts.Sum() <= m.UpperBound, $"{counts.Sum()} masked patches exceed the upper bound {m.UpperBound}");
        // the same generator seed gives the same batch
        var again = SslMaskBatch.Sample(batch, (0.1, 0.5), 0.5, generator, DataRandom.Create(5));
        Assert.Equal(m.Masks, again.Masks);
        using var scope = Scope.Enter();
        Assert.Equal(m.MaskedCount, m.ToTensor().Sum().ToInt64());
    }

    [Fact]
    public void BadSettingsAreRefused()
    {
        var g = new BlockMaskGenerator(4, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => SslMaskBatch.Sample(4, (0.5, 0.1), 0.5, g, new Random(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => SslMaskBatch.Sample(4, (0.1, 0.5), 1.5, g, new Random(1)));
        var e = Assert.Throws<ArgumentException>(() => new BlockMaskGenerator(0, 4).Generate(3, new Random(1)));
        Assert.Contains("0x4", e.Message);
    }
}
