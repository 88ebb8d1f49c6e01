namespace Reproduce.Vision.Models;

/// <summary>
/// What <see cref="ModelRegistry"/> needs from a model configuration: validation, the default input
/// resolution, and analytic parameter and FLOP counts (computed from the configuration alone, without
/// building the model, so that listing ViT-H costs nothing).
/// Implementations are records whose public init-only properties are the options: a run config sets them as
/// snake_case keys under <c>model.</c> (Reproduce.Training's config binder), so adding an option is adding a property.
/// </summary>
public interface IModelConfig
{
    /// <summary>Default input height and width in pixels.</summary>
    int ImgSize { get; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent option.</summary>
    void Validate();

    /// <summary>Number of trainable parameters of the model built from this configuration.</summary>
    long ParamCount();

    /// <summary>
    /// Forward GFLOPs of one image at <see cref="ImgSize"/>, in the convention of the papers' and timm's tables
    /// (fvcore): one multiply-accumulate counts as one FLOP.
    /// </summary>
    double Gflops();
}
