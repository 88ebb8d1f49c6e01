namespace Reproduce.Training.Config;

/// <summary>
/// A block of a configuration: a record whose public init-only properties are its keys (snake_case names,
/// see <see cref="ConfigNameAttribute"/>). Supported property types: <c>int</c>, <c>long</c>, <c>double</c>,
/// <c>bool</c>, <c>string</c>, enums, their nullable forms, <c>IReadOnlyList</c> or arrays of those scalars, block
/// ranges and nested sections (model records, <see cref="ConfigSchema.IsSection"/>, may be nullable: null = off).
/// Defaults are the property initialisers.
/// </summary>
public interface IConfigSection
{
    /// <summary>
    /// Checks values beyond their types (ranges, consistency) and throws <see cref="ConfigException"/> naming the
    /// dotted key, with <paramref name="prefix"/> the section's own dotted path ("" at the top).
    /// </summary>
    void Validate(string prefix);
}
