using System.Diagnostics;
using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Config;
using Reproduce.Training.Runs;
using Reproduce.Training.Train.Distributed;
using Reproduce.Vision.Data.Loading;
using Reproduce.Vision.Data.Mixing;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Metrics;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Train;

// The training loop of Trainer.Run: steps, accumulation, evaluation, checkpoints.
public static partial class Trainer
{
    /// <summary>The state of one training run in this process.</summary>
    private sealed class Loop(RunConfig config, RunDirectory run, TrainOptions options, Device device, ClassificationData train,
        ClassificationData eval, Module<Tensor, Tensor> model, Module<Tensor, Tensor>? emaModel, Optimizer optimizer, ModelEma? ema,
        TokenLabelTargets? tokenLabels, DataParallelTraining? ddp)
    {
        private readonly CheckpointStore _store = run.OpenCheckpoints();
        private readonly LoaderOptions _loader = ddp?.Shard(new() { BatchSize = config.Data.BatchSize, Seed = (ulong)config.Seed, LastBatch = LastBatch.Drop })
            ?? new() { BatchSize = config.Data.BatchSize, Seed = (ulong)config.Seed, LastBatch = LastBatch.Drop };
        private readonly bool _main = ddp?.IsMain ?? true;
        private readonly Mixup? _mixup = config.Aug.Mixup > 0 || config.Aug.Cutmix > 0
            ? new Mixup(train.NumClasses)
            {
                MixupAlpha = config.Aug.Mixup, CutMixAlpha = config.Aug.Cutmix, Prob = config.Aug.MixProb,
                SwitchProb = config.Aug.SwitchProb, LabelSmoothing = config.Aug.LabelSmoothing,
            }
            : null;
        private readonly TokenLabelTargets? _tokenLabels = tokenLabels;
        private readonly TokenLabelLoss _tokenLabelLoss = new(config.TokenLabel.ClsWeight, config.TokenLabel.DenseWeight);
        private long _step, _epoch, _position;
        private double _lossSum;
        private long _lossCount;
        private JsonObject? _lastEval;
        private double _lastLoss = double.NaN;

        public TrainResult Execute()
        {
            var accumulation = config.Optim.Accumulation;
            var stepsPerEpoch = TrainSampling.SamplesPerEpoch(config, train.Count, _loader, ddp?.ShardCount(train.Count) ?? train.Count) / config.Data.BatchSize / accumulation;
            if (stepsPerEpoch < 1 && config.Data.RepeatedAug > 0)
                throw new ConfigException($"data.repeated_aug: an epoch of repeated augmentation keeps ⌊n/256⌋·256 / world samples per rank, {TrainSampling.SamplesPerEpoch(config, train.Count, _loader, 0)} for the {train.Count} training samples of {train.Name}, fewer than data.batch_size × optim.accumulation = {config.Data.BatchSize * accumulation}", "data.repeated_aug");
            if (stepsPerEpoch < 1)
                throw new ConfigException($"data.batch_size × optim.accumulation = {config.Data.BatchSize * accumulation} exceeds the {train.Count} training samples of {train.Name}", "data.batch_size");
            var total = config.Optim.Steps ?? (long)config.Optim.Epochs * stepsPerEpoch;
            var warmup = config.Optim.WarmupSteps ?? (long)Math.Round(config.Optim.WarmupEpochs * stepsPerEpoch);
            var schedule = CreateSchedule(config.Optim, total, warmup);
            ResumeOrStart();
            if (_position >= stepsPerEpoch) (_epoch, _position) = (_epoch + 1, 0); // resumed under a larger world size
            using var batches = new TrainBatches(config, train, _tokenLabels, _loader, ddp, (_step, _epoch, _position), total, (int)stepsPerEpoch);
            var job = 0;
            var clock = Stopwatch.StartNew();
            var startStep = _step;
            var logEvery = Math.Max(1, options.LogEvery);
            while (_step < total)
            {
                schedule.Apply(optimizer, _step);
                for (var micro = 0; micro < accumulation; micro++)
                    MicroStep(batches.Take(job++), micro, accumulation);
                if (config.Optim.GradClip is { } clip)
                    using (Scope.Enter()) GradClip.ClipGradNorm(model.Parameters(), clip);
                optimizer.Step();
                optimizer.ZeroGrad();
                _step++;
                ema?.Update(model, _step);
                var epochEnded = ++_position == stepsPerEpoch;
                if (epochEnded)
                {
                    (_epoch, _position) = (_epoch + 1, 0);
                }
                if (_step % logEvery == 0 || _step == total) LogTraining(total, startStep, clock);
                var evaluateNow = _step == total || epochEnded && config.Checkpoint.EveryEpochs > 0 && _epoch % config.Checkpoint.EveryEpochs == 0;
                if (evaluateNow) Evaluate();
                if (evaluateNow || config.Checkpoint.EverySteps > 0 && _step % config.Checkpoint.EverySteps == 0)
                    SaveCheckpoint(evaluateNow ? _lastEval!["top1"]!.GetValue<double>() : null);
                if (options.StopAfterStep is { } stop && _step >= stop && _step < total) return new TrainResult(run, null, Skipped: false);
            }
            var final = Final(total);
            if (_main) ExportWeights();
            if (_main) run.Finish(final);
            options.OnMessage?.Invoke($"finished: top-1 {final["top1"]}%, top-5 {final["top5"]}% on {eval.Count} {eval.Name} images");
            return new TrainResult(run, final, Skipped: false);
        }

        private static LrSchedule CreateSchedule(OptimSection o, long total, long warmup)
        {
            var warmupFactor = o.Lr > 0 ? o.WarmupLr / o.Lr : 1.0;
            return o.Schedule switch
            {
                ScheduleKind.Cosine => new CosineSchedule(total, minLr: o.MinLr, warmupSteps: warmup, warmupStartLr: o.WarmupLr),
                ScheduleKind.Poly => new PolySchedule(total, o.PolyPower, o.MinLr, warmup, warmupFactor),
                ScheduleKind.Constant => new PolySchedule(total, power: 0, minLr: 0, warmupSteps: warmup, warmupStartFactor: warmupFactor),
                _ => throw new ConfigException($"optim.schedule: unknown schedule {o.Schedule}", "optim.schedule"),
            };
        }

        private void ResumeOrStart()
        {
            using var ckpt = run.CheckpointToResume(_store, _main, options.Resume);
            if (ckpt is null) return;
            var p = ckpt.Restore(new TrainingComponents { Model = model, Ema = ema, Optimizer = optimizer });
            _step = p.Step;
            (_epoch, _position) = DataParallelTraining.Resume(p.Longs, ddp?.WorldSize ?? 1, out var changed);
            if (changed is not null) options.OnMessage?.Invoke(changed);
            _lossSum = p.Extra?["loss_sum"]?.GetValue<double>() ?? 0;
            _lossCount = p.Extra?["loss_count"]?.GetValue<long>() ?? 0;
            if (_main) run.Metrics.TruncateAfterStep(_step);
            options.OnMessage?.Invoke($"resumed from step {_step} (epoch {_epoch}) of '{run.Path}'");
        }

        private void MicroStep(PreparedBatch batch, int micro, int accumulation)
        {
            using var scope = Scope.Enter();
            var (images, labels, maps) = batch.Adopt();
            var x = images.To(device);
            var y = labels.To(device);
            Tensor loss;
            using (config.AutocastBf16 ? Torch.Torch.Autocast(device.Type, ScalarType.BFloat16) : null)
                loss = _tokenLabels is not null ? TokenLabelingLoss(x, y, maps!) : ClassificationLoss(x, y, micro);
            var value = loss.ToDouble();
            if (!double.IsFinite(value))
                throw new TrainingDivergedException(
                    $"training loss is {value} at step {_step + 1} (epoch {_epoch}, micro-step {micro}); stopped. The last good checkpoint in '{_store.Directory}' is kept; lower optim.lr or set optim.grad_clip");
            ddp?.BeforeBackward(micro == accumulation - 1);
            (accumulation == 1 ? loss : loss.Div(accumulation)).Backward();
            ddp?.AfterBackward(micro == accumulation - 1);
            _lossSum += value / accumulation;
            if (micro == accumulation - 1) _lossCount++;
        }

        /// <summary>L = w_cls·H(X_cls, y_cls) + w_dense·(1/N)·Σᵢ H(Xᵢ, yᵢ) on the LV-ViT training forward (MixToken inside).</summary>
        private Tensor TokenLabelingLoss(Tensor x, Tensor y, IReadOnlyList<TokenLabelMap> maps)
        {
            if (model is not VisionTransformer vit)
                throw new ConfigException($"token_label.enabled: model '{config.Model.Name}' is not a VisionTransformer", "model.name");
            var output = vit.ForwardTokenLabeling(x);
            var (cls, dense) = _tokenLabels!.Build(maps, y, output.Box);
            return _tokenLabelLoss.Compute(output.ClsLogits, cls, output.AuxLogits, dense);
        }

        /// <summary>CE or BCE on (smoothed, Mixup/CutMix-mixed) soft targets.</summary>
        private Tensor ClassificationLoss(Tensor x, Tensor y, int micro)
        {
            Tensor targets;
            if (_mixup is not null)
            {
                var mixed = _mixup.Apply(x, y, new Random(MixSeed(config.Seed, _step, micro)));
                (x, targets) = (mixed.Images, mixed.Targets);
            }
            else
            {
                targets = SoftTargets.OneHot(y, train.NumClasses, config.Aug.LabelSmoothing);
            }
            return SoftTargetLoss.Compute(config.Optim.Loss, model.Forward(x), targets);
        }

        private static int MixSeed(long seed, long step, int micro)
        {
            var h = (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)step * 0xBF58476D1CE4E5B9UL ^ (ulong)micro * 0x94D049BB133111EBUL;
            h ^= h >> 31;
            return (int)(h & 0x7FFFFFFF);
        }

        private void LogTraining(long total, long startStep, Stopwatch clock)
        {
            var loss = _lossCount == 0 ? double.NaN : _lossSum / _lossCount;
            loss = ddp?.Dp.Average(loss) ?? loss;
            var lr = optimizer.Groups[0].Lr;
            _lastLoss = loss;
            if (_main) run.Metrics.Append(new JsonObject { ["step"] = _step, ["epoch"] = _epoch, ["train_loss"] = loss, ["lr"] = lr });
            (_lossSum, _lossCount) = (0, 0);
            var done = _step - startStep;
            var seconds = clock.Elapsed.TotalSeconds;
            var imgs = seconds > 0 ? done * config.Data.BatchSize * config.Optim.Accumulation * (ddp?.WorldSize ?? 1) / seconds : 0;
            var eta = done > 0 ? TimeSpan.FromSeconds(seconds / done * (total - _step)) : TimeSpan.Zero;
            options.OnProgress?.Invoke(new TrainProgressInfo(_step, total, _epoch, loss, lr, imgs, eta));
        }

        private void Evaluate()
        {
            var batch = config.Data.EvalBatchSize ?? config.Data.BatchSize;
            ddp?.Dp.BroadcastBuffers(model); // one set of BatchNorm statistics scores every shard
            var r = ddp is null ? Evaluator.Evaluate(model, eval, batch, device, workers: config.Data.Workers) : ShardedEvaluation.Evaluate(ddp.Dp, model, eval, batch, device, config.Data.Workers);
            var record = new JsonObject { ["step"] = _step, ["epoch"] = _epoch, ["top1"] = r.Top1, ["top5"] = Top5(r) };
            if (ema is not null && emaModel is not null)
            {
                using (Scope.Enter()) ema.ApplyTo(emaModel);
                ddp?.Dp.BroadcastBuffers(emaModel);
                var e = ddp is null ? Evaluator.Evaluate(emaModel, eval, batch, device, workers: config.Data.Workers) : ShardedEvaluation.Evaluate(ddp.Dp, emaModel, eval, batch, device, config.Data.Workers);
                (record["ema_top1"], record["ema_top5"]) = (e.Top1, Top5(e));
            }
            if (_main) run.Metrics.Append(record);
            _lastEval = record;
            options.OnMessage?.Invoke($"step {_step}: eval top-1 {r.Top1:0.00}%, top-5 {Top5(r):0.00}%");
        }

        private static double Top5(TopKResult r) => r.Accuracy.TryGetValue(5, out var v) ? v : r.Accuracy.Values.Max();

        private void SaveCheckpoint(double? metric)
        {
            if (!_main) return;
            var longs = new Dictionary<string, long[]> { ["sampler"] = [_epoch, _position] };
            DataParallelTraining.Record(longs, ddp);
            var progress = new TrainingProgress
            {
                Step = _step, Epoch = _epoch, SchedulerStep = _step, Metric = metric, Longs = longs,
                Extra = new JsonObject { ["loss_sum"] = _lossSum, ["loss_count"] = _lossCount },
            };
            _store.Save(new TrainingComponents { Model = model, Ema = ema, Optimizer = optimizer }, progress, config);
        }

        /// <summary>Writes the model (and EMA) weights by timm key, so other commands load them without the checkpoint format.</summary>
        private void ExportWeights()
        {
            var metadata = new Dictionary<string, string> { ["model"] = config.Model.Name, ["step"] = _step.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            SafeTensors.SaveModule(Path.Combine(run.Path, ModelWeightsFile), model, metadata);
            if (ema is not null && emaModel is not null)
            {
                using (Scope.Enter()) ema.ApplyTo(emaModel);
                SafeTensors.SaveModule(Path.Combine(run.Path, EmaWeightsFile), emaModel, metadata);
            }
        }

        private JsonObject Final(long total)
        {
            var e = _lastEval!;
            var final = new JsonObject
            {
                ["top1"] = e["top1"]!.GetValue<double>(), ["top5"] = e["top5"]!.GetValue<double>(),
                ["steps"] = total, ["epochs"] = _epoch, ["eval_samples"] = eval.Count, ["train_samples"] = train.Count,
                ["model"] = config.Model.Name, ["dataset"] = config.Data.Dataset, ["seed"] = config.Seed,
            };
            if (e["ema_top1"] is { } et1) (final["ema_top1"], final["ema_top5"]) = (et1.GetValue<double>(), e["ema_top5"]!.GetValue<double>());
            var lastLoss = _main ? run.Metrics.Read().LastOrDefault(r => r["train_loss"] is not null)?["train_loss"] : JsonValue.Create(_lastLoss);
            final["train_loss"] = lastLoss?.DeepClone();
            return final;
        }
    }
}
