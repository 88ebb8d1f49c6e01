using System.Diagnostics;

namespace Reproduce.Training.Bench;

/// <summary>The timed steps of one benchmarked model, in milliseconds, in the order they ran.</summary>
/// <param name="Milliseconds">Duration of every timed step.</param>
public sealed record StepTimings(IReadOnlyList<double> Milliseconds)
{
    /// <summary>Median step time in milliseconds (the mean of the two middle values for an even count).</summary>
    public double MedianMs => StepTimer.Median(Milliseconds);
}

/// <summary>
/// Times several step functions fairly on a shared machine: every function first runs its warmup steps (untimed), then
/// each round alternates the functions step by step (A, B, C, A, B, C, …) so that a slow phase of the machine hits all
/// of them alike. Round r starts with function r mod n (a rotation), so no function always runs first. Each step is
/// timed on its own; the statistic is the median, which a few steps disturbed by other jobs do not move.
/// </summary>
public static class StepTimer
{
    /// <summary>A clock in milliseconds: <see cref="Stopwatch"/>'s high-resolution timestamp.</summary>
    public static double StopwatchMs() => Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency;

    /// <summary>
    /// Runs <paramref name="warmup"/> untimed steps of every function (in order), then <paramref name="rounds"/> rounds
    /// of <paramref name="stepsPerRound"/> alternating timed steps per function. Returns one <see cref="StepTimings"/>
    /// per function (rounds × stepsPerRound entries each), in the order of <paramref name="steps"/>.
    /// </summary>
    /// <param name="steps">One step of each model; the function must finish its work (e.g. synchronize CUDA) before returning.</param>
    /// <param name="warmup">Untimed steps per function before timing (≥ 0).</param>
    /// <param name="rounds">Rounds of alternation (≥ 1).</param>
    /// <param name="stepsPerRound">Timed steps per function and round (≥ 1).</param>
    /// <param name="clockMs">The clock (milliseconds, monotonic); <see cref="StopwatchMs"/> when null. Tests pass a fake one.</param>
    public static IReadOnlyList<StepTimings> Run(IReadOnlyList<Action> steps, int warmup, int rounds, int stepsPerRound, Func<double>? clockMs = null)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count == 0) throw new ArgumentException("bench: nothing to time (no step functions)", nameof(steps));
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerRound, 1);
        var clock = clockMs ?? StopwatchMs;
        foreach (var step in steps)
            for (var i = 0; i < warmup; i++) step();
        var n = steps.Count;
        var times = Enumerable.Range(0, n).Select(_ => new List<double>(rounds * stepsPerRound)).ToArray();
        for (var r = 0; r < rounds; r++)
        {
            for (var s = 0; s < stepsPerRound; s++)
            {
                for (var k = 0; k < n; k++)
                {
                    var m = (r + k) % n;
                    var start = clock();
                    steps[m]();
                    times[m].Add(clock() - start);
                }
            }
        }
        return times.Select(t => new StepTimings(t)).ToList();
    }

    /// <summary>The median of <paramref name="values"/> (mean of the two middle values for an even count); throws when empty.</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("median of no values", nameof(values));
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
