using System.Text.Json.Nodes;

namespace Reproduce.Training.Checkpoints;

/// <summary>
/// The scalar side of a training state saved with a checkpoint: counters, the ranking metric, and state the
/// caller owns, such as a data sampler's RNG state or position (<see cref="Longs"/>, <see cref="Bytes"/>) and
/// anything else as JSON (<see cref="Extra"/>). <see cref="Checkpoint.Restore"/> returns what was saved.
/// </summary>
public sealed record TrainingProgress
{
    /// <summary>Optimizer updates done.</summary>
    public long Step { get; init; }
    /// <summary>Epoch counter (the caller's convention).</summary>
    public long Epoch { get; init; }
    /// <summary>Index of the next learning-rate schedule step.</summary>
    public long SchedulerStep { get; init; }
    /// <summary>Value of the ranking metric at this point, or null when not evaluated (not eligible for best / top-k).</summary>
    public double? Metric { get; init; }
    /// <summary>Named integer arrays (e.g. <c>sampler</c> = [epoch, position], a PRNG's state words).</summary>
    public IReadOnlyDictionary<string, long[]> Longs { get; init; } = new Dictionary<string, long[]>();
    /// <summary>Named byte arrays (e.g. a serialized PRNG).</summary>
    public IReadOnlyDictionary<string, byte[]> Bytes { get; init; } = new Dictionary<string, byte[]>();
    /// <summary>Anything else, as JSON.</summary>
    public JsonObject? Extra { get; init; }
}
