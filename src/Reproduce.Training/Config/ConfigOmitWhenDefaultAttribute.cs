namespace Reproduce.Training.Config;

/// <summary>
/// Leaves a key out of the canonical form (<see cref="ConfigJson"/>) while it holds its default value. Adding a key to a
/// section otherwise changes the hash of every configuration, including the committed results' runs that never use
/// the new option; a key marked with this attribute changes only the hashes of runs that set it to something else.
/// Loading is unaffected: a missing key takes its default, so the omitted form round-trips to the same values.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ConfigOmitWhenDefaultAttribute : Attribute;
