using Reproduce.Training.Bench;

namespace Reproduce.Training.Tests.Bench;

/// <summary><see cref="StepTimer"/> with a fake clock: known step durations give known medians and ratios.</summary>
public class StepTimerTests
{
    /// <summary>A clock that only moves when a step says so.</summary>
    private sealed class FakeClock
    {
        public double Now { get; private set; }

        public void Advance(double ms) => Now += ms;
    }

    /// <summary>A step function that takes the next duration of <paramref name="durations"/> (repeating the last) and logs its name.</summary>
    private static Action Step(FakeClock clock, string name, List<string> log, params double[] durations)
    {
        var i = 0;
        return () =>
        {
            log.Add(name);
            clock.Advance(durations[Math.Min(i++, durations.Length - 1)]);
        };
    }

    [Fact]
    public void WarmupThenAlternatesStepByStepRotatingTheFirstModelEachRound()
    {
        var clock = new FakeClock();
        var log = new List<string>();
        var steps = new[] { Step(clock, "A", log, 1), Step(clock, "B", log, 1), Step(clock, "C", log, 1) };

        StepTimer.Run(steps, warmup: 2, rounds: 3, stepsPerRound: 2, () => clock.Now);

        Assert.Equal(
            "AABBCC" + "ABCABC" + "BCABCA" + "CABCAB",
            string.Concat(log));
    }

    [Fact]
    public void MediansAndRatioFollowFromKnownDurations()
    {
        var clock = new FakeClock();
        var log = new List<string>();
        // Warmup durations (first entry) are not timed: 1000 ms would dominate any mean.
        var a = Step(clock, "A", log, 1000, 10, 40, 20, 30);     // timed 10, 40, 20, 30 → median 25
        var b = Step(clock, "B", log, 1000, 80, 50, 70, 60);     // timed 80, 50, 70, 60 → median 65

        var t = StepTimer.Run([a, b], warmup: 1, rounds: 2, stepsPerRound: 2, () => clock.Now);

        Assert.Equal([10.0, 40, 20, 30], t[0].Milliseconds);
        Assert.Equal([80.0, 50, 70, 60], t[1].Milliseconds);
        Assert.Equal(25.0, t[0].MedianMs);
        Assert.Equal(65.0, t[1].MedianMs);
        Assert.Equal(2.6, t[1].MedianMs / t[0].MedianMs, 12);
    }

    [Fact]
    public void OneOutlierDoesNotMoveTheMedian()
    {
        var clock = new FakeClock();
        var a = Step(clock, "A", [], 10, 10, 500, 10, 10);

        var t = StepTimer.Run([a], warmup: 0, rounds: 1, stepsPerRound: 5, () => clock.Now);

        Assert.Equal(10.0, t[0].MedianMs);
    }

    [Theory]
    [InlineData(new[] { 3.0 }, 3.0)]
    [InlineData(new[] { 5.0, 1.0, 3.0 }, 3.0)]
    [InlineData(new[] { 4.0, 1.0, 3.0, 2.0 }, 2.5)]
    public void MedianOfUnsortedValues(double[] values, double expected) => Assert.Equal(expected, StepTimer.Median(values));

    [Fact]
    public void RejectsNoStepsAndNonPositiveCounts()
    {
        Assert.Throws<ArgumentException>(() => StepTimer.Run([], 0, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => StepTimer.Run([() => { }], 0, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => StepTimer.Run([() => { }], 0, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => StepTimer.Run([() => { }], -1, 1, 1));
        Assert.Throws<ArgumentException>(() => StepTimer.Median([]));
    }
}
