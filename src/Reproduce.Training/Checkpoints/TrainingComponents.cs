using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;

namespace Reproduce.Training.Checkpoints;

/// <summary>
/// The live objects a checkpoint saves and restores: the model, optionally its EMA and optimizer, and random
/// generators. The process's default CPU generator (used by initialisation, dropout and drop path) is included
/// unless <see cref="IncludeDefaultGenerator"/> is false; named generators (data order, augmentation, a CUDA
/// default generator) are added under their names. Restoring into fewer components than were saved is allowed
/// (e.g. only the model, to evaluate); restoring a component the checkpoint lacks is an error.
/// </summary>
public sealed class TrainingComponents
{
    /// <summary>Name under which the default CPU generator is stored.</summary>
    public const string DefaultGeneratorName = "default_cpu";

    /// <summary>The trained model (parameters and persistent buffers).</summary>
    public required Module Model { get; init; }
    /// <summary>Its exponential moving average, if any.</summary>
    public ModelEma? Ema { get; init; }
    /// <summary>Its optimizer, if any.</summary>
    public Optimizer? Optimizer { get; init; }
    /// <summary>Named generators (names: letters, digits, '_' and '-').</summary>
    public IReadOnlyDictionary<string, Generator> Generators { get; init; } = new Dictionary<string, Generator>();
    /// <summary>Also save/restore the process's default CPU generator (as <see cref="DefaultGeneratorName"/>).</summary>
    public bool IncludeDefaultGenerator { get; init; } = true;
}
