namespace Reproduce.Training.Config;

/// <summary>Whether a larger or a smaller metric is better.</summary>
public enum MetricMode
{
    /// <summary>Larger is better (accuracy, mIoU, δ₁).</summary>
    Max,
    /// <summary>Smaller is better (loss, RMSE, AbsRel).</summary>
    Min,
}

/// <summary>When checkpoints are written and which are kept (see Checkpoints/CheckpointStore).</summary>
public sealed record CheckpointSection : IConfigSection
{
    /// <summary>Save every N optimizer updates; 0 = only at epoch ends.</summary>
    public long EverySteps { get; init; }
    /// <summary>Save every N epochs; 0 = never at epoch ends.</summary>
    public int EveryEpochs { get; init; } = 1;
    /// <summary>Besides <c>last</c> and <c>best</c>, keep the K best checkpoints by <see cref="Metric"/>.</summary>
    public int KeepTopK { get; init; } = 1;
    /// <summary>Metric that ranks checkpoints (a key of the evaluation results, e.g. <c>top1</c>, <c>mIoU</c>, <c>rmse</c>).</summary>
    public string Metric { get; init; } = "top1";
    /// <summary>max | min.</summary>
    public MetricMode Mode { get; init; } = MetricMode.Max;

    /// <inheritdoc/>
    public void Validate(string prefix)
    {
        ConfigCheck.Require(EverySteps >= 0, prefix, "every_steps", $"must be ≥ 0 (got {EverySteps})");
        ConfigCheck.Require(EveryEpochs >= 0, prefix, "every_epochs", $"must be ≥ 0 (got {EveryEpochs})");
        ConfigCheck.Require(KeepTopK >= 0, prefix, "keep_top_k", $"must be ≥ 0 (got {KeepTopK})");
        ConfigCheck.Require(!string.IsNullOrWhiteSpace(Metric), prefix, "metric", "must name a metric");
    }
}
