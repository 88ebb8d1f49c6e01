using System.Globalization;

namespace Reproduce.Training.Config;

/// <summary>Helpers for <see cref="IConfigSection.Validate"/>: each failure names the dotted key.</summary>
internal static class ConfigCheck
{
    /// <summary>Throws <see cref="ConfigException"/> naming <paramref name="prefix"/>.<paramref name="key"/> unless <paramref name="ok"/>.</summary>
    public static void Require(bool ok, string prefix, string key, string message)
    {
        if (ok) return;
        var full = prefix.Length == 0 ? key : prefix + "." + key;
        throw new ConfigException($"invalid config: '{full}' {message}", full, "config");
    }

    public static void Positive(double value, string prefix, string key) =>
        Require(value > 0, prefix, key, string.Create(CultureInfo.InvariantCulture, $"must be positive (got {value})"));

    public static void NonNegative(double value, string prefix, string key) =>
        Require(value >= 0, prefix, key, string.Create(CultureInfo.InvariantCulture, $"must be ≥ 0 (got {value})"));

    public static void Probability(double value, string prefix, string key) =>
        Require(value is >= 0 and <= 1, prefix, key, string.Create(CultureInfo.InvariantCulture, $"must be in [0, 1] (got {value})"));

    public static string Join(string prefix, string key) => prefix.Length == 0 ? key : prefix + "." + key;
}
