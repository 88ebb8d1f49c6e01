using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Reproduce.Training.Config;

/// <summary>
/// Applies JSON objects and dotted <c>key=value</c> overrides to configuration records without mutating them:
/// each change clones the record (its compiler-generated copy) and sets the init-only property on the copy.
/// Unknown keys are rejected with the valid keys of that level; values are type-checked by
/// <see cref="ConfigValues"/>. The same code binds the model's record under <c>model.</c> (<see cref="ModelBinder"/>),
/// so a model option and a run option have one grammar. A nullable nested record (a model's <c>sta</c>) is switched
/// on by an object or by setting one of its keys, and off by null.
/// </summary>
internal static class ConfigBinder
{
    /// <summary>A copy of <paramref name="section"/> with every key of <paramref name="patch"/> applied (nested objects merge into sections).</summary>
    public static object ApplyObject(object section, JsonObject patch, string prefix, string origin)
    {
        if (section is ModelSection model) return ModelBinder.ApplyObject(model, patch, prefix, origin);
        var type = section.GetType();
        var copy = Clone(section);
        foreach (var (name, node) in patch)
        {
            var key = Join(prefix, name);
            if (prefix.Length == 0 && section is RunConfig && LegacyModelKeys.IsDeadSection(name))
            {
                LegacyModelKeys.CheckDeadSection(node, key, origin);
                continue;
            }
            var f = ConfigSchema.Find(type, name) ?? throw Unknown(type, prefix, key, origin);
            var current = f.Property.GetValue(copy);
            object? value = f.Kind switch
            {
                ConfigKind.Section when node is null && f.Nullable => null,
                ConfigKind.Section => node is JsonObject o
                    ? ApplyObject(current ?? New(f.ValueType), o, key, origin)
                    : throw ConfigValues.TypeError(origin, key, "an object (a section with keys " + KeyList(f.ValueType) + ")" + (f.Nullable ? " or null (off)" : ""), ConfigValues.Describe(node)),
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

    /// <summary>A copy of <paramref name="section"/> with <c>parts[depth..]</c> set from <paramref name="text"/>.</summary>
    public static object Set(object section, string[] parts, int depth, string text, string origin)
    {
        if (section is ModelSection model) return ModelBinder.Set(model, parts, depth, text, origin);
        var type = section.GetType();
        if (depth == 0 && section is RunConfig && LegacyModelKeys.IsDeadSection(parts[0]))
            throw LegacyModelKeys.DeadSectionOverride(string.Join('.', parts), origin);
        var prefix = string.Join('.', parts.Take(depth));
        var key = string.Join('.', parts.Take(depth + 1));
        var f = ConfigSchema.Find(type, parts[depth]) ?? throw Unknown(type, prefix, key, origin);
        var copy = Clone(section);
        var current = f.Property.GetValue(copy);
        var last = depth == parts.Length - 1;
        object? value;
        switch (f.Kind)
        {
            case ConfigKind.Section when last && f.Nullable && IsNull(text):
                value = null;
                break;
            case ConfigKind.Section when last:
                value = text.TrimStart().StartsWith('{')
                    ? ApplyObject(current ?? New(f.ValueType), ParseObject(text, key, origin), key, origin)
                    : throw new ConfigException($"{origin}: '{key}' is a section; set one of its keys ({KeyList(f.ValueType)}), e.g. '{key}.{ConfigSchema.Fields(f.ValueType)[0].Key}=…', or give a JSON object" + (f.Nullable ? $" ('{key}={{}}' for its defaults, '{key}=null' for off)" : ""), key, origin);
                break;
            case ConfigKind.Section:
                value = Set(current ?? New(f.ValueType), parts, depth + 1, text, origin);
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

    private static bool IsNull(string text) =>
        text.Trim().Equals("null", StringComparison.OrdinalIgnoreCase) || text.Trim().Equals("none", StringComparison.OrdinalIgnoreCase);

    /// <summary>A nested record at its defaults (what <c>model.sta={}</c> switches on).</summary>
    public static object New(Type type) => Activator.CreateInstance(type)!;

    /// <summary>A JSON object given as override text, or a <see cref="ConfigException"/> naming the key.</summary>
    public static JsonObject ParseObject(string text, string key, string origin)
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

    public static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>The keys of a section type, comma-separated.</summary>
    public static string KeyList(Type sectionType) => string.Join(", ", ConfigSchema.Fields(sectionType).Select(f => f.Key));

    /// <summary>A copy of a record (its compiler-generated clone), so binding never mutates what it was given.</summary>
    public static object CloneRecord(object record) => Clone(record);

    public static ConfigException Unknown(Type sectionType, string prefix, string key, string origin) =>
        new($"{origin}: unknown key '{key}'; valid keys {(prefix.Length == 0 ? "at the top level" : $"under '{prefix}'")}: {KeyList(sectionType)}", key, origin);
}
