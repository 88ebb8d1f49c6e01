using System.Collections;
using System.Globalization;

namespace Reproduce.Training.Config;

/// <summary>
/// An open block of named scalar options (string, integer, float, bool or null), immutable and ordered by key.
/// Used where the valid keys are defined elsewhere — the model overrides and the STA / ANF / specialization
/// blocks are checked by the model registry that receives them (<see cref="ToOverrides"/>), not here.
/// In a JSON file the block is an object of scalars; an override sets one key (<c>sta.strength=0.5</c>), with
/// the value's type inferred: <c>true</c>/<c>false</c> → bool, an integer → int, a number → float,
/// <c>null</c>/<c>none</c> → null, anything else → string.
/// Keys are non-empty and contain no '.', so that dotted override paths stay unambiguous.
/// </summary>
public sealed class OptionMap : IReadOnlyDictionary<string, object?>
{
    private readonly SortedDictionary<string, object?> _items;

    private OptionMap(SortedDictionary<string, object?> items) => _items = items;

    /// <summary>The empty map.</summary>
    public static OptionMap Empty { get; } = new(new SortedDictionary<string, object?>(StringComparer.Ordinal));

    /// <summary>A copy with <paramref name="key"/> set to <paramref name="value"/> (string, long, double, bool or null).</summary>
    public OptionMap With(string key, object? value)
    {
        CheckKey(key);
        value = value switch
        {
            null or string or long or double or bool => value,
            int i => (long)i,
            float f => (double)f,
            _ => throw new ArgumentException($"OptionMap: option '{key}' has a value of type {value.GetType().Name}; only strings, integers, floats, bools and null are allowed"),
        };
        if (value is double d && !double.IsFinite(d)) throw new ArgumentException($"OptionMap: option '{key}' is {d}; only finite numbers are allowed");
        var copy = new SortedDictionary<string, object?>(_items, StringComparer.Ordinal) { [key] = value };
        return new OptionMap(copy);
    }

    /// <summary>Throws unless <paramref name="key"/> is a valid option name.</summary>
    public static void CheckKey(string key)
    {
        if (string.IsNullOrWhiteSpace(key) || key.Contains('.') || key.Trim() != key)
            throw new ArgumentException($"OptionMap: invalid option name '{key}' (non-empty, no dots, no surrounding spaces)");
    }

    /// <summary>The value an override string stands for (see the class summary).</summary>
    public static object? InferValue(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Equals("true", StringComparison.OrdinalIgnoreCase)) return true;
        if (text.Equals("false", StringComparison.OrdinalIgnoreCase)) return false;
        if (text.Equals("null", StringComparison.OrdinalIgnoreCase) || text.Equals("none", StringComparison.OrdinalIgnoreCase)) return null;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)) return d;
        return text;
    }

    /// <summary>
    /// The options as <c>key=value</c> strings for a registry that parses them (invariant culture; floats in
    /// shortest round-trip form; bools <c>true</c>/<c>false</c>; null as <c>none</c>).
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> ToOverrides() =>
        _items.Select(kv => KeyValuePair.Create(kv.Key, Format(kv.Value))).ToList();

    /// <summary>One value as an override string.</summary>
    public static string Format(object? value) => value switch
    {
        null => "none",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        string s => s,
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <inheritdoc/>
    public object? this[string key] => _items[key];
    /// <inheritdoc/>
    public IEnumerable<string> Keys => _items.Keys;
    /// <inheritdoc/>
    public IEnumerable<object?> Values => _items.Values;
    /// <inheritdoc/>
    public int Count => _items.Count;
    /// <inheritdoc/>
    public bool ContainsKey(string key) => _items.ContainsKey(key);
    /// <inheritdoc/>
    public bool TryGetValue(string key, out object? value) => _items.TryGetValue(key, out value);
    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary><c>{key: value, …}</c>, for messages.</summary>
    public override string ToString() => "{" + string.Join(", ", _items.Select(kv => $"{kv.Key}: {Format(kv.Value)}")) + "}";
}
