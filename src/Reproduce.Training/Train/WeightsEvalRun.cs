using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Training.Checkpoints.Released;
using Reproduce.Training.Config;
using Reproduce.Training.Runs;

namespace Reproduce.Training.Train;

/// <summary>
/// <c>reproduce eval --model NAME --weights FILE</c>: top-1 / top-5 of any weights file <see cref="ModelWeights"/> reads
/// (a released checkpoint, a run's <c>model.safetensors</c>) on the configured evaluation split, with the model's eval
/// transform (<see cref="ClassificationData.EvalTransformFor"/>: the per-model crop_pct and interpolation, overridable by
/// <c>data.crop_pct</c> / <c>data.interpolation</c>). The weights load strictly: a key or shape that does not fit names the
/// file, the key and both shapes.
/// </summary>
public static class WeightsEvalRun
{
    /// <summary>Evaluates <paramref name="weights"/>; writes a run directory at <paramref name="outDir"/> when given.</summary>
    /// <param name="config">Run config: <c>model.*</c>, <c>data.*</c> (dataset, root, eval_split, eval_limit, batch sizes), device, threads.</param>
    /// <param name="weights">The weights file.</param>
    /// <param name="entry">The checkpoint entry holding the state dict (null: <see cref="WeightsFile.WrapperEntries"/>).</param>
    /// <param name="outDir">Output run directory (config.json, metrics.jsonl, final.json), or null for none.</param>
    /// <param name="progress">Images done, total.</param>
    /// <param name="message">Lines for the user (what was ignored in the file).</param>
    public static JsonObject Run(RunConfig config, string weights, string? entry, string? outDir, Action<int, int>? progress = null, Action<string>? message = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        config.Validate("");
        if (!WeightsFile.Exists(weights)) throw new FileNotFoundException($"--weights: '{weights}' does not exist", weights);
        if (config.Threads > 0) Torch.Torch.NumThreads = config.Threads;
        var device = Device.Parse(config.Device);
        var model = Trainer.ModelFor(config);
        var split = ClassificationData.DefaultEvalSplit(config.Data);
        var data = ClassificationData.Open(config, split, config.Data.EvalLimit);

        Torch.Torch.ManualSeed((ulong)config.Seed);
        using var net = Trainer.CreateModel(config, model, device);
        var ignored = ModelWeights.LoadStrict(net, weights, entry);
        if (ignored.Count > 0) message?.Invoke($"eval: not weights, ignored: {string.Join(", ", ignored.Take(12))}{(ignored.Count > 12 ? $" (and {ignored.Count - 12} more)" : "")}");
        var r = Evaluator.Evaluate(net, data, config.Data.EvalBatchSize ?? config.Data.BatchSize, device, progress, config.Data.Workers);
        var top5 = r.Accuracy.TryGetValue(5, out var t5) ? t5 : r.Accuracy.Values.Max();
        var final = new JsonObject
        {
            ["top1"] = r.Top1, ["top5"] = top5, ["samples"] = r.Count, ["model"] = config.Model.Name, ["dataset"] = config.Data.Dataset,
            ["split"] = split, ["weights"] = Path.GetFullPath(weights), ["crop_pct"] = data.Eval.CropPct, ["interpolation"] = data.Eval.Interpolation.ToString().ToLowerInvariant(),
        };
        if (outDir is not null)
        {
            var run = RunDirectory.OpenOrCreateAt(outDir, config);
            run.Metrics.Append(new JsonObject { ["step"] = 0, ["top1"] = r.Top1, ["top5"] = top5 });
            run.Finish(final);
        }
        return final;
    }
}
