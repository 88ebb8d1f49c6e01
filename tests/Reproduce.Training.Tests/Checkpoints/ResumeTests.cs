using Reproduce.Training.Checkpoints;

namespace Reproduce.Training.Tests.Checkpoints;

/// <summary>
/// Interrupt a run after k steps, resume it in a fresh model / optimizer / EMA / generators from the checkpoint,
/// and finish: every weight, EMA entry, optimizer state tensor and hyperparameter, generator state and logged loss
/// must be bit-identical to the uninterrupted run. (In process; the kill -9 CLI test comes with the CLI.)
/// </summary>
[Collection(nameof(SerialTests))]
public class ResumeTests
{
    private const int Total = 13;

    private static (Dictionary<string, byte[]> State, List<double> Losses) Uninterrupted()
    {
        using var run = new TinyRun(initSeed: 1, augmentSeed: 2);
        run.Train(Total);
        return (run.Snapshot(), run.Losses.ToList());
    }

    private static void AssertSame(Dictionary<string, byte[]> expected, Dictionary<string, byte[]> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[key]), $"'{key}' differs from the uninterrupted run");
    }

    [Theory]
    [InlineData(5)]    // at an epoch boundary (5 steps per epoch)
    [InlineData(7)]    // mid-epoch, after warmup
    [InlineData(2)]    // during warmup
    public void ResumedRunEndsBitIdenticalToTheUninterruptedOne(int interruptAt)
    {
        var (reference, referenceLosses) = Uninterrupted();
        using var dir = new TempDir();
        var store = new CheckpointStore(dir.Path);
        using (var first = new TinyRun(initSeed: 1, augmentSeed: 2))
        {
            first.Train(interruptAt);
            store.Save(first.Components, first.Progress());
            first.Train(2);   // work after the checkpoint is lost when the process dies
        }

        // A "new process": different initial weights and generator states, which the checkpoint must override.
        Torch.Torch.ManualSeed(999);
        using var resumed = new TinyRun(initSeed: 77, augmentSeed: 78);
        using (var ckpt = store.LoadLast()!)
            resumed.Resume(ckpt.Restore(resumed.Components));
        Assert.Equal(interruptAt, resumed.Step);
        resumed.Train(Total - interruptAt);

        Assert.Equal(referenceLosses, resumed.Losses);
        AssertSame(reference, resumed.Snapshot());
    }

    [Fact]
    public void ResumingTwiceIsStillBitIdentical()
    {
        var (reference, referenceLosses) = Uninterrupted();
        using var dir = new TempDir();
        var store = new CheckpointStore(dir.Path);
        using (var a = new TinyRun(1, 2))
        {
            a.Train(4);
            store.Save(a.Components, a.Progress());
        }
        using (var b = new TinyRun(3, 4))
        {
            using (var ckpt = store.LoadLast()!) b.Resume(ckpt.Restore(b.Components));
            b.Train(5);
            store.Save(b.Components, b.Progress());
        }
        using var c = new TinyRun(5, 6);
        using (var ckpt = store.LoadLast()!) c.Resume(ckpt.Restore(c.Components));
        Assert.Equal(9, c.Step);
        c.Train(Total - 9);
        Assert.Equal(referenceLosses, c.Losses);
        AssertSame(reference, c.Snapshot());
    }
}
