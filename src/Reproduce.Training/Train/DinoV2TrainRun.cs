using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Torch.Optim;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Config;
using Reproduce.Training.Pretraining;
using Reproduce.Training.Runs;
using Reproduce.Training.Train.Distributed;

namespace Reproduce.Training.Train;

/// <summary>
/// DINOv2 pretraining (<c>ssl.method=dinov2</c>) inside the run machinery of <see cref="Trainer.Run"/>: the run
/// directory, config.json, metrics.jsonl (the loss terms and the five schedule values), progress, checkpoints and
/// resume, data parallelism and, at the end, the teacher backbone as the run's <see cref="Trainer.ModelWeightsFile"/>
/// (timm keys), its weighted k-NN top-1 (<c>knn_top1</c>, <see cref="DinoV2Knn"/>) and its linear evaluation on frozen
/// features (<c>linear_top1</c>, <see cref="FrozenLinearEval"/>) on the evaluation split in final.json.
/// <para>
/// Per iteration t (dinov2 <c>train.do_train</c>): the schedules' values at t go into the AdamW groups
/// (<see cref="DinoParamGroups"/>), the batch is built (<see cref="DinoV2BatchBuilder"/>), the losses
/// (<see cref="DinoV2Step"/>) are back-propagated, the student's gradients are averaged over the ranks, each student
/// submodule's gradient is clipped to <c>optim.grad_clip</c>, AdamW steps and the teacher follows with the scheduled
/// momentum.
/// </para>
/// <para>
/// Data: a seeded permutation of the training images per pass (the last partial global batch dropped); rank r of W
/// takes slots r, r + W, … of each global batch of W × <c>data.batch_size</c> images, and every crop and mask is
/// drawn from generators seeded by (seed, t, position), the masks for the whole global batch. A batch is therefore a
/// pure function of t, and a checkpoint (student, teacher, heads, centres, optimizer, default generator, t) resumes
/// to the same bytes as an uninterrupted run; 2 ranks of B see exactly the images, crops and masks of 1 process of 2B.
/// </para>
/// </summary>
internal sealed class DinoV2TrainRun
{
    private readonly RunConfig _config;
    private readonly RunDirectory _run;
    private readonly TrainOptions _options;
    private readonly Device _device;
    private readonly ClassificationData _train;
    private readonly ClassificationData _eval;
    private readonly DinoV2Step _step;
    private readonly DinoV2TrainingState _state;
    private readonly List<DinoParamGroup> _groups;
    private readonly AdamW _optimizer;
    private readonly DataParallelTraining? _ddp;
    private readonly DinoV2Iterations _it;
    private readonly DinoSchedules _schedules;
    private readonly DinoV2BatchBuilder _builder;
    private readonly CheckpointStore _store;
    private readonly double _peakLr;
    private readonly bool _main;
    private long _t;
    private double _lastLoss = double.NaN;

    private DinoV2TrainRun(RunConfig config, RunDirectory run, TrainOptions options, Device device, ClassificationData train, ClassificationData eval,
        DinoV2Step step, DinoV2TrainingState state, List<DinoParamGroup> groups, AdamW optimizer, DataParallelTraining? ddp, DinoV2Iterations it, double peakLr)
    {
        (_config, _run, _options, _device, _train, _eval) = (config, run, options, device, train, eval);
        (_step, _state, _groups, _optimizer, _ddp, _it, _peakLr) = (step, state, groups, optimizer, ddp, it, peakLr);
        _schedules = new DinoSchedules(DinoV2Recipe.Schedules(config, it, peakLr));
        _builder = DinoV2Recipe.Builder(config.Ssl, step.Student.Backbone.Config, config.Data.Workers);
        _store = run.OpenCheckpoints();
        _main = ddp?.IsMain ?? true;
    }

    private int World => _ddp?.WorldSize ?? 1;

    private long GlobalBatch => (long)_config.Data.BatchSize * World;

    /// <summary>Runs (or resumes) the DINOv2 configuration <paramref name="config"/> in the opened <paramref name="run"/>.</summary>
    public static TrainResult Run(RunConfig config, RunDirectory run, TrainOptions options, Device device, DataParallel? dp)
    {
        var train = ClassificationData.Open(config, config.Data.TrainSplit, config.Data.TrainLimit, classifier: false);
        var eval = ClassificationData.Open(config, ClassificationData.DefaultEvalSplit(config.Data), config.Data.EvalLimit, classifier: false);
        var backbone = DinoV2Recipe.Backbone(Trainer.ModelFor(config), config.Ssl);
        var world = dp?.WorldSize ?? 1;
        var it = DinoV2Recipe.Iterations(config, train.Count, (long)config.Data.BatchSize * world);
        var peakLr = DinoV2Recipe.PeakLr(config, config.Data.BatchSize, world);
        Torch.Torch.ManualSeed((ulong)config.Seed);
        var head = DinoV2Recipe.Head(config.Ssl);
        using var step = new DinoV2Step(backbone, head, config.Ssl.IbotSeparateHead ? head : null, DinoV2Recipe.Losses(config.Ssl), device: device);
        using var state = new DinoV2TrainingState(step);
        step.Teacher.Eval();
        using var ddp = DataParallelTraining.Start(dp, step.Student);
        dp?.BroadcastFromMain(step.Teacher);
        var groups = DinoParamGroups.Create(step.Student, config.Optim.LayerDecay ?? 1.0, config.Ssl.PatchEmbedLrMult);
        var o = config.Optim;
        using var optimizer = new AdamW(groups.Select(g => g.Group), peakLr, o.WeightDecay, new AdamWOptions(o.Betas[0], o.Betas[1], o.Eps));
        return new DinoV2TrainRun(config, run, options, device, train, eval, step, state, groups, optimizer, ddp, it, peakLr).Execute();
    }

    private TrainResult Execute()
    {
        ResumeOrStart();
        using var batches = new DinoV2Batches(_train, _builder, (ulong)_config.Seed, _config.Data.BatchSize, _ddp?.Rank ?? 0, World,
            _config.Data.Workers, _t, _it.Total);
        var clock = Stopwatch.StartNew();
        var startStep = _t;
        var logEvery = Math.Max(1, _options.LogEvery);
        var group = _ddp?.Dp.Group;
        while (_t < _it.Total)
        {
            using (var scope = Scope.Enter())
            {
                var values = _schedules.At(_t);
                DinoParamGroups.Apply(_groups, values);
                _optimizer.ZeroGrad();
                var cpu = batches.Take(_t);
                var batch = new DinoV2Batch(cpu.GlobalCrops.To(_device), cpu.LocalCrops?.To(_device), cpu.Masks.To(_device));
                DinoV2Losses losses;
                using (_config.AutocastBf16 ? Torch.Torch.Autocast(_device.Type, ScalarType.BFloat16) : null)
                    losses = _step.Compute(batch, values.TeacherTemp, group);
                var total = losses.Total.ToDouble();
                if (!double.IsFinite(total))
                    throw new TrainingDivergedException(
                        $"DINOv2 loss is {total} at step {_t + 1}; stopped. The last good checkpoint in '{_store.Directory}' is kept; lower ssl.base_lr or optim.lr");
                _ddp?.BeforeBackward(true);
                losses.Total.Backward();
                _ddp?.AfterBackward(true);
                if (_config.Optim.GradClip is { } clip) ClipPerSubmodule(clip);
                _optimizer.Step();
                _step.UpdateTeacher(values.Momentum);
                _t++;
                if (_t % logEvery == 0 || _t == _it.Total) Log(losses, total, values, startStep, clock);
            }
            var epochEnded = _t % _it.EpochLength == 0;
            var c = _config.Checkpoint;
            if (_t == _it.Total || epochEnded && c.EveryEpochs > 0 && _t / _it.EpochLength % c.EveryEpochs == 0 || c.EverySteps > 0 && _t % c.EverySteps == 0)
                SaveCheckpoint();
            if (_options.StopAfterStep is { } stop && _t >= stop && _t < _it.Total) return new TrainResult(_run, null, Skipped: false);
        }
        return Finish();
    }

    /// <summary>dinov2 clips the backbone (with the mask token), the DINO head and the iBOT head separately.</summary>
    private void ClipPerSubmodule(double clip)
    {
        using var scope = Scope.Enter();
        var student = _step.Student;
        GradClip.ClipGradNorm([.. student.Backbone.Parameters(), student.MaskToken], clip);
        GradClip.ClipGradNorm(student.DinoHead.Parameters(), clip);
        if (student.IbotHead is { } ibot) GradClip.ClipGradNorm(ibot.Parameters(), clip);
    }

    private void ResumeOrStart()
    {
        using var ckpt = _run.CheckpointToResume(_store, _main, _options.Resume);
        if (ckpt is null) return;
        var p = ckpt.Restore(Components());
        _step.Teacher.Eval();
        _t = p.Step;
        var saved = p.Longs.TryGetValue("world_size", out var w) ? w[0] : 1;
        if (saved != World)
            _options.OnMessage?.Invoke($"checkpoint written by {saved} process(es), resumed by {World}: the global batch changes from {saved}× to {World}× data.batch_size, so the data order and the lr scaling differ from an uninterrupted run");
        if (_main) _run.Metrics.TruncateAfterStep(_t);
        _options.OnMessage?.Invoke($"resumed from step {_t} of '{_run.Path}'");
    }

    private TrainingComponents Components() => new() { Model = _state, Optimizer = _optimizer };

    private void SaveCheckpoint()
    {
        if (!_main) return;
        var longs = new Dictionary<string, long[]>();
        DataParallelTraining.Record(longs, _ddp);
        _store.Save(Components(), new TrainingProgress { Step = _t, Epoch = _t / _it.EpochLength, SchedulerStep = _t, Longs = longs }, _config);
    }

    private void Log(DinoV2Losses losses, double total, DinoScheduleValues v, long startStep, Stopwatch clock)
    {
        double[] terms = [total, losses.DinoLocal, losses.DinoGlobal, losses.KoLeo, losses.Ibot];
        if (_ddp is not null) terms = _ddp.Dp.Sum(terms).Select(x => x / World).ToArray();
        _lastLoss = terms[0];
        var epoch = _t / _it.EpochLength;
        if (_main)
        {
            _run.Metrics.Append(new JsonObject
            {
                ["step"] = _t, ["epoch"] = epoch, ["train_loss"] = terms[0], ["dino_local"] = terms[1], ["dino_global"] = terms[2],
                ["koleo"] = terms[3], ["ibot"] = terms[4], ["lr"] = v.Lr, ["wd"] = v.WeightDecay, ["momentum"] = v.Momentum,
                ["teacher_temp"] = v.TeacherTemp, ["last_layer_lr"] = v.LastLayerLr,
            });
        }
        var done = _t - startStep;
        var seconds = clock.Elapsed.TotalSeconds;
        var imgs = seconds > 0 ? done * GlobalBatch / seconds : 0;
        var eta = done > 0 ? TimeSpan.FromSeconds(seconds / done * (_it.Total - _t)) : TimeSpan.Zero;
        _options.OnProgress?.Invoke(new TrainProgressInfo(_t, _it.Total, epoch, terms[0], v.Lr, imgs, eta));
    }

    /// <summary>Rank 0: the k-NN evaluation, the teacher backbone by timm key and final.json.</summary>
    private TrainResult Finish()
    {
        var final = new JsonObject
        {
            ["ssl_method"] = ConfigSchema.EnumName(_config.Ssl.Method), ["steps"] = _it.Total, ["epochs"] = _it.Total / _it.EpochLength,
            ["epoch_length"] = _it.EpochLength, ["global_batch"] = GlobalBatch, ["peak_lr"] = _peakLr, ["train_samples"] = _train.Count,
            ["model"] = _config.Model.Name, ["dataset"] = _config.Data.Dataset, ["seed"] = _config.Seed,
        };
        final["train_loss"] = _main ? _run.Metrics.Read().LastOrDefault(r => r["train_loss"] is not null)?["train_loss"]?.DeepClone() : _lastLoss;
        if (!_main) return new TrainResult(_run, final, Skipped: false);
        var ssl = _config.Ssl;
        var evalBatch = _config.Data.EvalBatchSize ?? _config.Data.BatchSize;
        using var scope = Scope.Enter();
        var (trainX, trainY) = DinoV2Knn.Features(_step.Teacher, _train, evalBatch, _device, _config.Data.Workers);
        var (evalX, evalY) = DinoV2Knn.Features(_step.Teacher, _eval, evalBatch, _device, _config.Data.Workers);
        var knn = DinoV2Knn.Evaluate(trainX, trainY, evalX, evalY, _train.NumClasses, ssl.KnnK, ssl.KnnTemperature);
        (final["knn_top1"], final["knn_k"], final["knn_temperature"]) = (knn.Top1, knn.K, knn.Temperature);
        (final["knn_train_samples"], final["eval_samples"]) = (knn.TrainSamples, knn.EvalSamples);
        if (ssl.LinearEpochs > 0)
        {
            var linear = FrozenLinearEval.Evaluate(trainX, trainY, evalX, evalY, _train.NumClasses, ssl.LinearLrs, ssl.LinearEpochs, ssl.LinearBatchSize, (ulong)_config.Seed);
            (final["linear_top1"], final["linear_lr"], final["linear_epochs"]) = (linear.Top1, linear.BestLr, ssl.LinearEpochs);
        }
        var metadata = new Dictionary<string, string>
        {
            ["model"] = _config.Model.Name, ["step"] = _t.ToString(CultureInfo.InvariantCulture), ["source"] = "dinov2 teacher backbone",
        };
        SafeTensors.SaveModule(Path.Combine(_run.Path, Trainer.ModelWeightsFile), _step.Teacher.Backbone, metadata);
        _run.Finish(final);
        _options.OnMessage?.Invoke($"finished: teacher k-NN top-1 {knn.Top1:0.00}% (k {knn.K}, T {knn.Temperature})"
            + (final["linear_top1"] is { } l ? $", linear top-1 {l.GetValue<double>():0.00}%" : "") + $" on {knn.EvalSamples} {_eval.Name} images");
        return new TrainResult(_run, final, Skipped: false);
    }
}
