using System.Globalization;

namespace Reproduce.Vision.Models;

/// <summary>
/// Text form of the small option records nested in <see cref="VitConfig"/> (STA, ANF, specialization), as given to
/// <c>--set</c>: comma-separated <c>key=value</c> assignments with snake_case keys, numbers in invariant culture,
/// <c>true</c>/<c>false</c>, enum values in snake_case and integer lists joined by '/'. Unknown keys and bad values
/// throw <see cref="ArgumentException"/> naming the record, the key and the valid keys.
/// </summary>
internal static class OptionSpec
{
    /// <summary>The assignments of <paramref name="spec"/>, each checked against <paramref name="keys"/>.</summary>
    public static IEnumerable<(string Key, string Value)> Assignments(string spec, string owner, IReadOnlyCollection<string> keys)
    {
        foreach (var part in spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var i = part.IndexOf('=', StringComparison.Ordinal);
            if (i <= 0) throw new ArgumentException($"{owner}: '{part}' in '{spec}' is not key=value");
            var key = part[..i].Trim().Replace('-', '_');
            if (!keys.Contains(key)) throw new ArgumentException($"{owner}: unknown key '{key}' in '{spec}'; valid keys: {string.Join(", ", keys)}");
            yield return (key, part[(i + 1)..].Trim());
        }
    }

    public static double Double(string owner, string key, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
            ? d : throw new ArgumentException($"{owner}: '{key}' expects a finite number, got '{value}'");

    public static int Int(string owner, string key, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i)
            ? i : throw new ArgumentException($"{owner}: '{key}' expects an integer, got '{value}'");

    public static bool Bool(string owner, string key, string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new ArgumentException($"{owner}: '{key}' expects true or false, got '{value}'"),
    };

    public static int[] Ints(string owner, string key, string value) =>
        value.Split('/', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => Int(owner, key, v)).ToArray();

    public static T Enum<T>(string owner, string key, string value) where T : struct, System.Enum
    {
        foreach (var name in System.Enum.GetNames<T>())
            if (string.Equals(ModelOptions.SnakeCase(name), value, StringComparison.OrdinalIgnoreCase))
                return System.Enum.Parse<T>(name);
        throw new ArgumentException($"{owner}: '{key}' expects {string.Join(" or ", System.Enum.GetNames<T>().Select(ModelOptions.SnakeCase))}, got '{value}'");
    }

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Format<T>(T value) where T : struct, System.Enum => ModelOptions.SnakeCase(value.ToString());

    public static string Format(bool value) => value ? "true" : "false";

    public static string Format(int[] values) => string.Join('/', values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
}
