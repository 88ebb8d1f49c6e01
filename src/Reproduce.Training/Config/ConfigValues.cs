using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Config;

/// <summary>
/// Type-checked conversion of configuration values from JSON and from override text, and back to JSON.
/// Integers accept integral numbers only (<c>300</c>, <c>3e2</c>; not <c>2.5</c>); floats must be finite;
/// bools are <c>true</c>/<c>false</c>; enums are their configuration names; lists are JSON arrays (or, in
/// overrides, comma-separated values); a block range is <c>[start, end]</c>; null (or <c>none</c> in overrides) only
/// where the key allows it. Override text is trimmed of surrounding white space (the one rule for every key).
/// </summary>
internal static class ConfigValues
{
    /// <summary>A scalar or list value from a JSON file.</summary>
    public static object? FromJson(ConfigField f, JsonNode? node, string key, string origin)
    {
        if (node is null)
        {
            if (f.Nullable) return null;
            throw Error(origin, key, $"cannot be null (expects {f.TypeName})");
        }
        if (f.Kind == ConfigKind.Range) return RangeFromJson(node, key, origin, f.TypeName);
        if (f.Kind != ConfigKind.List) return ScalarFromJson(f.Kind, f.ValueType, node, key, origin, f.TypeName);
        if (node is not JsonArray array) throw TypeError(origin, key, f.TypeName, Describe(node));
        return MakeList(f.ValueType, array.Select((e, i) =>
            e is null
                ? throw Error(origin, $"{key}[{i}]", $"cannot be null (expects {f.TypeName})")
                : ScalarFromJson(f.ElementKind!.Value, f.ValueType, e, $"{key}[{i}]", origin, f.TypeName)).ToList());
    }

    private static BlockRange RangeFromJson(JsonNode node, string key, string origin, string typeName)
    {
        if (node is JsonArray { Count: 2 } a && a[0] is { } start && a[1] is { } end)
            return new BlockRange((int)ScalarFromJson(ConfigKind.Int, typeof(int), start, $"{key}[0]", origin, typeName),
                (int)ScalarFromJson(ConfigKind.Int, typeof(int), end, $"{key}[1]", origin, typeName));
        throw TypeError(origin, key, typeName, Describe(node));
    }

    private static object ScalarFromJson(ConfigKind kind, Type type, JsonNode node, string key, string origin, string typeName)
    {
        var valueKind = node.GetValueKind();
        switch (kind)
        {
            case ConfigKind.Int:
            case ConfigKind.Long:
                if (valueKind == JsonValueKind.Number)
                {
                    var el = node.GetValue<JsonElement>();
                    if (el.TryGetInt64(out var l)) return Integer(kind, l, key, origin, el.GetRawText());
                    var d = el.GetDouble();
                    if (double.IsFinite(d) && Math.Floor(d) == d && Math.Abs(d) < 9.2e18) return Integer(kind, (long)d, key, origin, el.GetRawText());
                }
                break;
            case ConfigKind.Float:
                if (valueKind == JsonValueKind.Number)
                {
                    var d = node.GetValue<JsonElement>().GetDouble();
                    if (double.IsFinite(d)) return d;
                    throw Error(origin, key, $"is {node.ToJsonString()}, which is not a finite number");
                }
                break;
            case ConfigKind.Bool:
                if (valueKind is JsonValueKind.True or JsonValueKind.False) return valueKind == JsonValueKind.True;
                break;
            case ConfigKind.String:
                if (valueKind == JsonValueKind.String) return node.GetValue<string>();
                break;
            case ConfigKind.Enum:
                if (valueKind == JsonValueKind.String)
                    return ConfigSchema.ParseEnum(type, node.GetValue<string>())
                           ?? throw Error(origin, key, $"expects {typeName}, got \"{node.GetValue<string>()}\"");
                break;
        }
        throw TypeError(origin, key, typeName, Describe(node));
    }

    private static object Integer(ConfigKind kind, long value, string key, string origin, string text)
    {
        if (kind == ConfigKind.Long) return value;
        if (value is < int.MinValue or > int.MaxValue) throw Error(origin, key, $"is {text}, outside the 32-bit integer range");
        return (int)value;
    }

    /// <summary>A scalar or list value from override text.</summary>
    public static object? FromText(ConfigField f, string text, string key, string origin)
    {
        var t = text.Trim();
        if (f.Nullable && (t.Equals("null", StringComparison.OrdinalIgnoreCase) || t.Equals("none", StringComparison.OrdinalIgnoreCase)))
            return null;
        if (f.Kind == ConfigKind.Range) t = t.StartsWith('[') ? t : "[" + t + "]";
        else if (f.Kind != ConfigKind.List) return ScalarFromText(f.Kind, f.ValueType, t, key, origin, f.TypeName);
        if (t.StartsWith('['))
        {
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(t);
            }
            catch (JsonException e)
            {
                throw Error(origin, key, $"expects {f.TypeName}, but '{t}' is not a JSON array: {e.Message}");
            }
            return FromJson(f, node, key, origin);
        }
        if (t.Length == 0) return MakeList(f.ValueType, []);
        var parts = t.Split(',');
        return MakeList(f.ValueType, parts.Select((p, i) => ScalarFromText(f.ElementKind!.Value, f.ValueType, p.Trim(), $"{key}[{i}]", origin, f.TypeName)).ToList());
    }

    private static object ScalarFromText(ConfigKind kind, Type type, string t, string key, string origin, string typeName)
    {
        switch (kind)
        {
            case ConfigKind.Int:
            case ConfigKind.Long:
                if (long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return Integer(kind, l, key, origin, t);
                if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var di) && double.IsFinite(di) && Math.Floor(di) == di && Math.Abs(di) < 9.2e18)
                    return Integer(kind, (long)di, key, origin, t);
                break;
            case ConfigKind.Float:
                if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                {
                    if (double.IsFinite(d)) return d;
                    throw Error(origin, key, $"is '{t}', which is not a finite number");
                }
                break;
            case ConfigKind.Bool:
                if (t.Equals("true", StringComparison.OrdinalIgnoreCase)) return true;
                if (t.Equals("false", StringComparison.OrdinalIgnoreCase)) return false;
                break;
            case ConfigKind.String:
                return t;
            case ConfigKind.Enum:
                if (ConfigSchema.ParseEnum(type, t) is { } e) return e;
                break;
        }
        throw TypeError(origin, key, typeName, $"'{t}'");
    }

    /// <summary>The canonical JSON of a scalar or list value (enums by name, lists as arrays).</summary>
    public static JsonNode? ToJson(ConfigField f, object? value)
    {
        if (value is null) return null;
        if (value is BlockRange r) return new JsonArray(JsonValue.Create((long)r.Start), JsonValue.Create((long)r.End));
        if (f.Kind == ConfigKind.List)
            return new JsonArray(((System.Collections.IEnumerable)value).Cast<object>().Select(v => ScalarToJson(v)).ToArray());
        return ScalarToJson(value);
    }

    /// <summary>The JSON of one scalar.</summary>
    public static JsonNode? ScalarToJson(object? value) => value switch
    {
        null => null,
        int i => JsonValue.Create((long)i),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        bool b => JsonValue.Create(b),
        string s => JsonValue.Create(s),
        Enum e => JsonValue.Create(ConfigSchema.EnumName(e)),
        _ => throw new InvalidOperationException($"no JSON form for a {value.GetType().Name}"),
    };

    private static object MakeList(Type elementType, List<object> items)
    {
        var array = Array.CreateInstance(elementType, items.Count);
        for (var i = 0; i < items.Count; i++) array.SetValue(items[i], i);
        return array;
    }

    /// <summary>How a JSON value is described in messages: <c>a string ("abc")</c>, <c>a number (1.5)</c>, <c>an object</c>, …</summary>
    public static string Describe(JsonNode? node)
    {
        if (node is null) return "null";
        var text = node.ToJsonString();
        if (text.Length > 60) text = text[..57] + "...";
        return node.GetValueKind() switch
        {
            JsonValueKind.String => $"a string ({text})",
            JsonValueKind.Number => $"a number ({text})",
            JsonValueKind.True or JsonValueKind.False => $"a bool ({text})",
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => $"an array ({text})",
            _ => text,
        };
    }

    public static ConfigException TypeError(string origin, string key, string typeName, string got) =>
        Error(origin, key, $"expects {typeName}, got {got}");

    public static ConfigException Error(string origin, string key, string text) =>
        new($"{origin}: '{key}' {text}", key, origin);
}
