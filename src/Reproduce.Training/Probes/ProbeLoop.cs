using Reproduce.Torch;
using Reproduce.Torch.Optim;

namespace Reproduce.Training.Probes;

/// <summary>The optimisation loop shared by the probes: linear warm-up + poly decay (or another schedule), one loss per step.</summary>
internal static class ProbeLoop
{
    /// <summary>
    /// Runs <see cref="ProbeOptions.Steps"/> steps of <paramref name="optimizer"/> on <paramref name="lossAt"/> (called
    /// inside a per-step scope) under <paramref name="schedule"/> (default <see cref="PolySchedule"/> from the options); a non-finite loss throws naming <paramref name="probe"/>,
    /// the step and <paramref name="hint"/>. Returns the mean loss over the last tenth of the steps. With
    /// <paramref name="ddp"/> the gradients are averaged over ranks during backward and the reported loss is the ranks' mean.
    /// </summary>
    public static double Run(string probe, ProbeOptions options, Optimizer optimizer, Func<int, Tensor> lossAt, string hint,
        Action<ProbeStep>? onStep, Train.Distributed.DataParallelTraining? ddp = null, LrSchedule? schedule = null)
    {
        schedule ??= new PolySchedule(options.Steps, options.PolyPower, 0, options.WarmupSteps);
        var tail = Math.Max(1, options.Steps / 10);
        var tailLosses = new List<double>();
        for (var step = 0; step < options.Steps; step++)
        {
            using var s = Scope.Enter();
            schedule.Apply(optimizer, step);
            var loss = lossAt(step);
            var value = loss.ToDouble();
            if (!double.IsFinite(value))
                throw new InvalidOperationException($"{probe}: loss is {value} at step {step} ({hint})");
            optimizer.ZeroGrad();
            ddp?.BeforeBackward(lastMicroStep: true);
            loss.Backward();
            ddp?.AfterBackward(lastMicroStep: true);
            optimizer.Step();
            if (ddp is not null) value = ddp.Dp.Average(value);
            if (step >= options.Steps - tail) tailLosses.Add(value);
            onStep?.Invoke(new ProbeStep(step, value, optimizer.Groups[0].Lr));
        }
        return tailLosses.Average();
    }
}
