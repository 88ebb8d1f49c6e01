namespace Reproduce.Training.Config;

/// <summary>
/// The model: a registry name plus overrides of the registry's configuration record, passed on as
/// <c>key=value</c> strings (<see cref="OptionMap.ToOverrides"/>) and checked there
/// (<c>model.overrides.drop_path_rate=0.1</c>, <c>model.overrides.num_classes=10</c>).
/// </summary>
public sealed record ModelSection : IConfigSection
{
    /// <summary>Registry name (timm naming, e.g. <c>deit_small_patch16_224</c>, <c>lvvit_s</c>).</summary>
    public string Name { get; init; } = "vit_tiny_patch16_224";
    /// <summary>Overrides of the registry's model configuration (snake_case option names).</summary>
    public OptionMap Overrides { get; init; } = OptionMap.Empty;
    /// <summary>Initial weights (a safetensors file), or null for the model's own initialisation.</summary>
    public string? Weights { get; init; }

    /// <inheritdoc/>
    public void Validate(string prefix)
    {
        ConfigCheck.Require(!string.IsNullOrWhiteSpace(Name), prefix, "name", "must name a registered model");
        ConfigCheck.Require(Weights is null || Weights.Trim().Length > 0, prefix, "weights", "must be a file path or null");
    }
}
