using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Optim;

/// <summary>
/// A set of parameters that share hyperparameters, like one entry of PyTorch's
/// <c>optimizer.param_groups</c>. Values left unset (<see langword="null"/> in the constructor) take the
/// optimizer's defaults when the group is handed to an <see cref="Optimizer"/>.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Lr"/> is the learning rate the optimizer uses on the next <see cref="Optimizer.Step"/>.
/// <see cref="InitialLr"/> is the base value a schedule starts from (timm and PyTorch call it
/// <c>initial_lr</c>), and <see cref="LrScale"/> is timm's per-group <c>lr_scale</c> (layer-wise decay):
/// a schedule sets <c>Lr = schedule(InitialLr, t) · LrScale</c> (see <see cref="LrSchedule.Apply"/>).
/// As in timm, the optimizer itself never multiplies by <see cref="LrScale"/>.
/// </para>
/// <para>
/// <see cref="Options"/> holds the optimizer-specific hyperparameters (betas, momentum, ...) as a record
/// of the optimizer's own options type; a group may carry its own to override the optimizer's defaults.
/// </para>
/// </remarks>
public sealed class ParamGroup
{
    private double? _lr, _weightDecay, _initialLr;

    /// <summary>Creates a group; unset values come from the optimizer it is given to.</summary>
    /// <param name="parameters">The parameters, updated in this order.</param>
    /// <param name="lr">Learning rate, or null for the optimizer's default.</param>
    /// <param name="weightDecay">Weight decay, or null for the optimizer's default.</param>
    /// <param name="lrScale">Factor a schedule applies on top of the scheduled lr (timm's <c>lr_scale</c>).</param>
    /// <param name="name">Optional label (e.g. "decay", "no_decay"), kept in the state dict.</param>
    /// <param name="options">Optimizer-specific hyperparameters, or null for the optimizer's defaults.</param>
    public ParamGroup(IEnumerable<Parameter> parameters, double? lr = null, double? weightDecay = null, double lrScale = 1.0,
        string? name = null, OptimizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        if (Parameters.Any(p => p is null)) throw new ArgumentException("ParamGroup: a parameter is null", nameof(parameters));
        _lr = lr;
        _weightDecay = weightDecay;
        LrScale = lrScale;
        Name = name;
        Options = options;
    }

    /// <summary>The parameters of the group, in update order.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Optional label.</summary>
    public string? Name { get; }

    /// <summary>Learning rate used by the next step.</summary>
    public double Lr
    {
        get => _lr ?? throw new InvalidOperationException("ParamGroup.Lr: the group has no lr yet; pass it to an optimizer (which fills in its default) or set it");
        set => _lr = value;
    }

    /// <summary>
    /// Base learning rate schedules start from (<c>initial_lr</c>): unless set explicitly, the <see cref="Lr"/> the group
    /// had when its first optimizer adopted it (like PyTorch's <c>group.setdefault('initial_lr', group['lr'])</c>).
    /// </summary>
    public double InitialLr
    {
        get => _initialLr ?? Lr;
        set => _initialLr = value;
    }

    /// <summary>Weight-decay coefficient (its meaning — coupled or decoupled — is the optimizer's).</summary>
    public double WeightDecay
    {
        get => _weightDecay ?? throw new InvalidOperationException("ParamGroup.WeightDecay: the group has no weight decay yet; pass it to an optimizer or set it");
        set => _weightDecay = value;
    }

    /// <summary>Multiplier applied by schedules on top of the scheduled lr (timm's <c>lr_scale</c>).</summary>
    public double LrScale { get; set; }

    /// <summary>Optimizer-specific hyperparameters (an <see cref="AdamWOptions"/>, <see cref="SgdOptions"/>, ...).</summary>
    public OptimizerOptions? Options { get; set; }

    /// <summary>Fills unset values from the optimizer's defaults; called once by the optimizer.</summary>
    internal void Adopt(double lr, double weightDecay, OptimizerOptions defaults)
    {
        _lr ??= lr;
        _weightDecay ??= weightDecay;
        _initialLr ??= _lr.Value;
        Options ??= defaults;
    }
}

/// <summary>Base type of the optimizer-specific hyperparameter records kept in <see cref="ParamGroup.Options"/>.</summary>
public abstract record OptimizerOptions;
