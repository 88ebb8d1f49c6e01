using Reproduce.Training.Train.Distributed;

namespace Reproduce.Training.Tests.Train;

/// <summary>Where a checkpoint's sampler position lands when the world size changes on resume.</summary>
public class DataParallelResumeTests
{
    [Fact]
    public void TheSameWorldSizeKeepsThePositionAndSaysNothing()
    {
        var longs = new Dictionary<string, long[]> { ["sampler"] = [3, 17], ["world_size"] = [2] };
        Assert.Equal((3L, 17L), DataParallelTraining.Resume(longs, 2, out var message));
        Assert.Null(message);
        // A single-process checkpoint has no world_size entry (it is unchanged by this feature).
        Assert.Equal((1L, 5L), DataParallelTraining.Resume(new Dictionary<string, long[]> { ["sampler"] = [1, 5] }, 1, out message));
        Assert.Null(message);
    }

    [Fact]
    public void AnotherWorldSizeMapsTheImagesConsumedAndSaysWhatChanged()
    {
        // 17 updates of 2 ranks consumed 34 rank-batches of the epoch: 8 updates of 4 ranks (32), rounded down.
        var longs = new Dictionary<string, long[]> { ["sampler"] = [3, 17], ["world_size"] = [2] };
        Assert.Equal((3L, 8L), DataParallelTraining.Resume(longs, 4, out var message));
        Assert.NotNull(message);
        Assert.Contains("written by 2 process(es), resumed by 4", message, StringComparison.Ordinal);
        Assert.Contains("from update 17 to 8", message, StringComparison.Ordinal);
        // From one process to two: twice the images per update, half the updates.
        Assert.Equal((0L, 10L), DataParallelTraining.Resume(new Dictionary<string, long[]> { ["sampler"] = [0, 20] }, 2, out message));
        Assert.Contains("written by 1 process(es), resumed by 2", message!, StringComparison.Ordinal);
    }
}
