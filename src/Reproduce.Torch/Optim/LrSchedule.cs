namespace Reproduce.Torch.Optim;

/// <summary>
/// A learning-rate schedule indexed by optimizer step: a pure function <see cref="LrAt"/> of a group's base lr
/// and the step, plus <see cref="Apply"/>, which writes it into every group of an optimizer.
/// Call <c>Apply(optimizer, t)</c> before the t-th <see cref="Optimizer.Step"/> (t = 0, 1, …); this equals timm's
/// <c>scheduler.step_update(num_updates=t)</c> after the t-th update, and mmengine's iteration-based schedulers.
/// </summary>
public abstract class LrSchedule
{
    /// <summary>The learning rate at optimizer step <paramref name="step"/> (0-based) for a group whose base lr is <paramref name="baseLr"/>.</summary>
    public abstract double LrAt(double baseLr, long step);

    /// <summary>
    /// Sets every group's lr for step <paramref name="step"/>:
    /// <c>group.Lr = LrAt(group.InitialLr, step) · group.LrScale</c> (timm applies <c>lr_scale</c> the same way,
    /// after computing the schedule from the group's <c>initial_lr</c>).
    /// </summary>
    public void Apply(Optimizer optimizer, long step)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        foreach (var g in optimizer.Groups) g.Lr = LrAt(g.InitialLr, step) * g.LrScale;
    }
}
