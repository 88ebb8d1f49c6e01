namespace Reproduce.Training.Train;

/// <summary>One progress report of <see cref="Trainer"/> (for the CLI's progress display; not logged, timing varies).</summary>
/// <param name="Step">Optimizer updates done.</param>
/// <param name="TotalSteps">Planned optimizer updates.</param>
/// <param name="Epoch">Epochs completed.</param>
/// <param name="Loss">Mean training loss since the previous report.</param>
/// <param name="Lr">Learning rate of the first parameter group.</param>
/// <param name="ImagesPerSecond">Training throughput in this process.</param>
/// <param name="Eta">Estimated time to the end of training.</param>
public sealed record TrainProgressInfo(long Step, long TotalSteps, long Epoch, double Loss, double Lr, double ImagesPerSecond, TimeSpan Eta);

/// <summary>How <see cref="Trainer.Run"/> behaves around the configuration (nothing here changes the results).</summary>
public sealed record TrainOptions
{
    /// <summary>
    /// Continue from the run directory's last checkpoint when it has one. When false and a checkpoint exists, the
    /// run stops with an error instead of silently continuing or overwriting it.
    /// </summary>
    public bool Resume { get; init; }
    /// <summary>Log the training loss (metrics.jsonl and <see cref="OnProgress"/>) every N optimizer updates.</summary>
    public int LogEvery { get; init; } = 10;
    /// <summary>Called at every log point.</summary>
    public Action<TrainProgressInfo>? OnProgress { get; init; }
    /// <summary>Called with a line of text for events (resumed, evaluated, checkpoint saved, finished).</summary>
    public Action<string>? OnMessage { get; init; }
    /// <summary>Stop (without finishing) after this many optimizer updates in total — an interruption, for tests.</summary>
    public long? StopAfterStep { get; init; }
}
