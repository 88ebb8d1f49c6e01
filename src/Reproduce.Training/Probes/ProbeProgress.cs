using System.Globalization;

namespace Reproduce.Training.Probes;

/// <summary>Where a probe's training stands after one step (what the CLI shows as a progress bar or a plain line).</summary>
/// <param name="Step">Steps done (1-based).</param>
/// <param name="TotalSteps">Steps of the run.</param>
/// <param name="Loss">Loss of the step's batch.</param>
/// <param name="Lr">Learning rate used.</param>
/// <param name="ImagesPerSecond">Training images per second since the first step.</param>
/// <param name="Elapsed">Wall time since the first step.</param>
public readonly record struct ProbeProgress(int Step, int TotalSteps, double Loss, double Lr, double ImagesPerSecond, TimeSpan Elapsed)
{
    /// <summary>Remaining training time at the rate so far (evaluation not included).</summary>
    public TimeSpan Eta => Step <= 0 ? TimeSpan.Zero : Elapsed * ((double)(TotalSteps - Step) / Step);

    /// <summary>Whether a plain-line log should print this step: every ⌈steps/20⌉-th step and the last one.</summary>
    public bool IsReportStep => Step == TotalSteps || Step % Math.Max(1, (TotalSteps + 19) / 20) == 0;

    /// <summary>One line: step, loss, lr, img/s, elapsed, ETA.</summary>
    public string Text() => string.Create(CultureInfo.InvariantCulture,
        $"step {Step,5}/{TotalSteps}  loss {Loss:F4}  lr {Lr:0.00e+00}  {ImagesPerSecond:F1} img/s  {Elapsed.TotalSeconds:F0} s  ETA {Eta.TotalSeconds:F0} s");
}
