namespace Reproduce.Training.Config;

/// <summary>
/// Overrides the configuration name of a property or an enum member, which is otherwise the snake_case of its
/// C# name (<c>WeightDecay</c> → <c>weight_decay</c>). Used where snake_case would read badly
/// (<c>AdamW</c> → <c>adamw</c>, not <c>adam_w</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ConfigNameAttribute(string name) : Attribute
{
    /// <summary>The name used in JSON files, overrides and the canonical form.</summary>
    public string Name { get; } = name;
}
