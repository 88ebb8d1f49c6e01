using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Reproduce.Training.Config;

/// <summary>
/// Applies JSON objects and dotted <c>key=value</c> overrides to configuration records without mutating them:
/// each change clones the record (its compiler-generated copy) and sets the init-only property on the copy.
/// Unknown keys are rejected with the valid keys of that level; values are type-checked by
/// <see cref="ConfigValues"/>.
/// </summary>
internal static class ConfigBinder
{
    /// <summary>A copy of <paramref name="section"/> with every key of <paramref name="patch"/> applied (nested objects merge into sections and option maps).</summary>
    public static object ApplyObject(object section, JsonObject patch, string prefix, string origin)
    {
        var type = section.GetType();
        var copy = Clone(section);
        foreach (var (name, node) in patch)
        {
            var key = Join(prefix, name);
            var f = ConfigSchema.Find(type, name) ?? throw Unknown(type, prefix, key, origin);
            var current = f.Property.GetValue(copy);
            object? value = f.Kind switch
            {
                ConfigKind.Section => node is JsonObject o
                    ? ApplyObject(current!, o, key, origin)
                    : throw ConfigValues.TypeError(origin, key, "an object (a section with keys " + KeyList(f.ValueType) + ")", ConfigValues.Describe(node)),
                ConfigKind.Map => node is JsonObject m
                    ? MergeMap((OptionMap)current!, m, key, origin)
                    : throw ConfigValues.TypeError(origin, key, "an object of options", ConfigValues.Describe(node)),
                _ => ConfigValues.FromJson(f, node, key, origin),
            };
            f.Property.SetValue(copy, value);
        }
        return copy;
    }

    /// <summary>A copy of <paramref name="root"/> with the dotted <paramref name="key"/> set from <paramref name="text"/>.</summary>
    public static object ApplyOverride(object root, string key, string text, string origin)
    {
        var parts = key.Split('.');
        if (parts.Any(p => p.Length == 0)) throw new ConfigException($"{origin}: '{key}' is not a valid dotted key", key, origin);
        return Set(root, parts, 0, text, origin);
    }

    private static object Set(object section, string[] parts, int depth, string text, string origin)
    {
        var type = section.GetType();
        var prefix = string.Join('.', parts.Take(depth));
        var key = string.Join('.', parts.Take(depth + 1));
        var f = ConfigSchema.Find(type, parts[depth]) ?? throw Unknown(type, prefix, key, origin);
        var copy = Clone(section);
        var current = f.Property.GetValue(copy);
        var last = depth == parts.Length - 1;
        object? value;
        switch (f.Kind)
        {
            case ConfigKind.Section when last:
                value = text.TrimStart().StartsWith('{')
                    ? ApplyObject(current!, ParseObject(text, key, origin), key, origin)
                    : throw new ConfigException($"{origin}: '{key}' is a section; set one of its keys ({KeyList(f.ValueType)}), e.g. '{key}.{ConfigSchema.Fields(f.ValueType)[0].Key}=…', or give a JSON object", key, origin);
                break;
            case ConfigKind.Section:
                value = Set(current!, parts, depth + 1, text, origin);
                break;
            case ConfigKind.Map when last:
                value = text.TrimStart().StartsWith('{')
                    ? MergeMap((OptionMap)current!, ParseObject(text, key, origin), key, origin)
                    : throw new ConfigException($"{origin}: '{key}' is a block of options; set one with '{key}.<option>=<value>' or give a JSON object", key, origin);
                break;
            case ConfigKind.Map:
                if (depth + 2 != parts.Length)
                    throw new ConfigException($"{origin}: '{string.Join('.', parts)}' goes below the option '{key}.{parts[depth + 1]}', which is a plain value", string.Join('.', parts), origin);
                value = WithOption((OptionMap)current!, parts[depth + 1], OptionMap.InferValue(text.Trim()), string.Join('.', parts), origin);
                break;
            default:
                if (!last)
                    throw new ConfigException($"{origin}: '{string.Join('.', parts)}' goes below '{key}', which is a plain value ({f.TypeName})", string.Join('.', parts), origin);
                value = ConfigValues.FromText(f, text, key, origin);
                break;
        }
        f.Property.SetValue(copy, value);
        return copy;
    }

    private static OptionMap MergeMap(OptionMap map, JsonObject patch, string prefix, string origin)
    {
        foreach (var (name, node) in patch)
            map = WithOption(map, name, ConfigValues.OptionFromJson(node, Join(prefix, name), origin), Join(prefix, name), origin);
        return map;
    }

    private static OptionMap WithOption(OptionMap map, string name, object? value, string key, string origin)
    {
        try
        {
            return map.With(name, value);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"{origin}: '{key}': {e.Message}", key, origin, e);
        }
    }

    private static JsonObject ParseObject(string text, string key, string origin)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new ConfigException($"{origin}: '{key}' must be a JSON object", key, origin);
        }
        catch (JsonException e)
        {
            throw new ConfigException($"{origin}: '{key}': the value is not valid JSON: {e.Message}", key, origin, e);
        }
    }

    private static object Clone(object record)
    {
        var clone = record.GetType().GetMethod("<Clone>$", BindingFlags.Public | BindingFlags.Instance)
                    ?? throw new InvalidOperationException($"{record.GetType().Name} is not a record");
        return clone.Invoke(record, null)!;
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>The keys of a section type, comma-separated.</summary>
    public static string KeyList(Type sectionType) => string.Join(", ", ConfigSchema.Fields(sectionType).Select(f => f.Key));

    private static ConfigException Unknown(Type sectionType, string prefix, string key, string origin) =>
        new($"{origin}: unknown key '{key}'; valid keys {(prefix.Length == 0 ? "at the top level" : $"under '{prefix}'")}: {KeyList(sectionType)}", key, origin);
}
