using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Config;
using Reproduce.Training.Runs;
using Reproduce.Training.Train.Distributed;

namespace Reproduce.Training.Train;

/// <summary>Which checkpoint of a training run <see cref="EvalRun"/> scores.</summary>
public enum CheckpointChoice
{
    /// <summary>The best by the run's checkpoint metric (falls back to the last when none has a metric).</summary>
    Best,
    /// <summary>The most recent.</summary>
    Last,
}

/// <summary>
/// Evaluation of a trained classifier: the model of <c>model.name</c> + overrides, weights from a training run's
/// checkpoint (model or EMA weights), scored with <see cref="Evaluator"/> on the configured evaluation split.
/// The results go to the output run directory: config.json, one metrics.jsonl record, final.json.
/// </summary>
public static class EvalRun
{
    /// <summary>Evaluates and writes <paramref name="outDir"/>; returns the final metrics.</summary>
    public static JsonObject Run(RunConfig config, string fromRun, string outDir, CheckpointChoice choice = CheckpointChoice.Best, bool useEma = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(fromRun);
        ArgumentNullException.ThrowIfNull(outDir);
        config.Validate("");
        if (config.Ssl.Enabled)
            throw new ConfigException($"ssl.method: '{fromRun}' is a self-supervised ({ConfigSchema.EnumName(config.Ssl.Method)}) run without a classifier; its final.json holds knn_top1 and linear_top1, and its {Trainer.ModelWeightsFile} (the teacher backbone) goes to probe, analyze or eval --model NAME --weights with a classifier head", "ssl.method");
        _ = Trainer.ModelFor(config); // the model record and the data root, checked before the output directory is touched
        RunInputs.CheckDataRoot(config);
        var source = RunDirectory.Open(fromRun);
        var store = source.OpenCheckpoints();
        if (!store.HasCheckpoint) throw new CheckpointException($"run directory '{source.Path}' has no checkpoint to evaluate");
        if (config.Threads > 0) Torch.Torch.NumThreads = config.Threads;
        var dp = DataParallel.Current; // under `reproduce launch`: each rank scores its shard, rank 0 writes
        var device = Device.Parse(dp?.DeviceFor(config.Device) ?? config.Device);
        var data = ClassificationData.Open(config, ClassificationData.DefaultEvalSplit(config.Data), config.Data.EvalLimit);
        var run = dp is null ? RunDirectory.OpenOrCreateAt(outDir, config) : dp.MainFirst(() => RunDirectory.OpenOrCreateAt(outDir, config));

        Torch.Torch.ManualSeed((ulong)config.Seed);
        using var model = Trainer.CreateModel(config, Trainer.ModelFor(config), device);
        using var ckpt = (choice == CheckpointChoice.Best ? store.LoadBest() : null) ?? store.LoadLast()!;
        ckpt.RestoreModel(model, useEma);
        var batch = config.Data.EvalBatchSize ?? config.Data.BatchSize;
        var r = dp is null ? Evaluator.Evaluate(model, data, batch, device, workers: config.Data.Workers) : ShardedEvaluation.Evaluate(dp, model, data, batch, device, config.Data.Workers);
        var top5 = r.Accuracy.TryGetValue(5, out var t5) ? t5 : r.Accuracy.Values.Max();
        var final = new JsonObject
        {
            ["top1"] = r.Top1, ["top5"] = top5, ["eval_samples"] = r.Count, ["model"] = config.Model.Name, ["dataset"] = config.Data.Dataset,
            ["checkpoint"] = Path.GetFileName(ckpt.Path), ["checkpoint_step"] = ckpt.Step, ["ema"] = useEma,
        };
        if (dp is not null && !dp.IsMain) return final;
        run.Metrics.Append(new JsonObject { ["step"] = ckpt.Step, ["top1"] = r.Top1, ["top5"] = top5 });
        run.Finish(final);
        return final;
    }
}
