using System.Text.Json.Nodes;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Config;

/// <summary>
/// Binds the <c>model</c> section: <c>name</c> and <c>weights</c> are its own keys, every other key belongs to the
/// record of the registry entry <c>name</c> picks and is checked against that record's schema as it is set (unknown
/// keys list the valid ones, values are type-checked by <see cref="ConfigValues"/>). What is kept is the normalised
/// JSON of the keys set (<see cref="ModelSection.KeysJson"/>), merged key by key; changing <c>name</c> re-checks them
/// against the new record. <see cref="Resolve"/> applies them to the registry's record with <see cref="ConfigBinder"/>.
/// </summary>
internal static class ModelBinder
{
    /// <summary>A copy of <paramref name="model"/> with a JSON object's keys applied (<c>name</c> first, so it picks the record).</summary>
    public static ModelSection ApplyObject(ModelSection model, JsonObject patch, string prefix, string origin)
    {
        if (patch.TryGetPropertyValue("name", out var nameNode))
            model = WithName(model, (string)ConfigValues.FromJson(Own("name"), nameNode, ConfigBinder.Join(prefix, "name"), origin)!, prefix, origin);
        foreach (var (name, node) in patch)
        {
            var key = ConfigBinder.Join(prefix, name);
            model = name switch
            {
                "name" => model,
                "weights" => model with { Weights = (string?)ConfigValues.FromJson(Own("weights"), node, key, origin) },
                LegacyModelKeys.Overrides => LegacyModelKeys.ApplyObject(model, node, prefix, origin),
                _ => Merge(model, new JsonObject { [name] = Normalize(RecordType(model, key, origin), name, node, prefix, origin) }),
            };
        }
        return model;
    }

    /// <summary>A copy of <paramref name="model"/> with the dotted key <c>parts[depth..]</c> set from override text.</summary>
    public static ModelSection Set(ModelSection model, string[] parts, int depth, string text, string origin)
    {
        var prefix = string.Join('.', parts.Take(depth));
        var name = parts[depth];
        var last = depth == parts.Length - 1;
        if (name is "name" or "weights")
        {
            if (!last) throw new ConfigException($"{origin}: '{string.Join('.', parts)}' goes below '{ConfigBinder.Join(prefix, name)}', which is a plain value (string)", string.Join('.', parts), origin);
            var value = (string?)ConfigValues.FromText(Own(name), text, ConfigBinder.Join(prefix, name), origin);
            return name == "name" ? WithName(model, value!, prefix, origin) : model with { Weights = value };
        }
        if (name == LegacyModelKeys.Overrides) return LegacyModelKeys.Set(model, parts, depth + 1, text, origin);
        var type = RecordType(model, ConfigBinder.Join(prefix, name), origin);
        return Merge(model, PatchFromText(type, parts, depth, text, origin));
    }

    /// <summary>The registry record of <c>model.name</c> with the keys applied, not yet validated as a whole.</summary>
    public static IModelConfig Bind(ModelSection model, string prefix, string origin) =>
        (IModelConfig)ConfigBinder.ApplyObject(Entry(model.Name, ConfigBinder.Join(prefix, "name"), origin).Config, model.Keys, prefix, origin);

    /// <summary>The entry of <c>model.name</c> with the keys applied and validated; failures are <see cref="ConfigException"/>s naming the key.</summary>
    public static ModelEntry Resolve(ModelSection model, string prefix, string origin)
    {
        var entry = Entry(model.Name, ConfigBinder.Join(prefix, "name"), origin);
        var config = Bind(model, prefix, origin);
        try
        {
            return entry.With(config);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"{prefix}: {e.Message}", prefix, origin, e);
        }
    }

    /// <summary>The model section's own keys and the record's, comma-separated (for unknown-key messages).</summary>
    public static string KeyList(Type recordType) => "name, weights, " + ConfigBinder.KeyList(recordType);

    private static ModelSection WithName(ModelSection model, string name, string prefix, string origin)
    {
        var renamed = model with { Name = name };
        if (model.KeysJson == "{}") return renamed;
        var type = RecordType(renamed, ConfigBinder.Join(prefix, "name"), origin);
        var keys = new JsonObject();
        foreach (var (k, node) in model.Keys) keys[k] = Normalize(type, k, node?.DeepClone(), prefix, origin);
        return renamed with { KeysJson = Sorted(keys).ToJsonString() };
    }

    private static ModelEntry Entry(string name, string key, string origin)
    {
        try
        {
            return ModelRegistry.Get(name);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"{origin}: '{key}': {e.Message}", key, origin, e);
        }
    }

    private static Type RecordType(ModelSection model, string key, string origin) =>
        ModelRegistry.Contains(model.Name)
            ? ModelRegistry.Get(model.Name).Config.GetType()
            : throw new ConfigException($"{origin}: '{key}' is a model key, but model.name '{model.Name}' is not a registered model (`reproduce models` lists them)", key, origin);

    private static ConfigField Own(string name) => ConfigSchema.Find(typeof(ModelSection), name)!;

    /// <summary>The normalised JSON of one record key: checked against the schema, scalars re-written canonically.</summary>
    private static JsonNode? Normalize(Type type, string name, JsonNode? node, string prefix, string origin)
    {
        var key = ConfigBinder.Join(prefix, name);
        var f = ConfigSchema.Find(type, name) ?? throw Unknown(type, prefix, key, origin);
        if (f.Kind != ConfigKind.Section) return ConfigValues.ToJson(f, ConfigValues.FromJson(f, node, key, origin));
        if (node is null && f.Nullable) return null;
        if (node is not JsonObject o)
            throw ConfigValues.TypeError(origin, key, "an object (keys " + ConfigBinder.KeyList(f.ValueType) + ")" + (f.Nullable ? " or null (off)" : ""), ConfigValues.Describe(node));
        var result = new JsonObject();
        foreach (var (k, child) in o) result[k] = Normalize(f.ValueType, k, child?.DeepClone(), key, origin);
        return result;
    }

    /// <summary>The patch <c>{parts[depth]: …}</c> that override text stands for, checked against <paramref name="type"/>.</summary>
    private static JsonObject PatchFromText(Type type, string[] parts, int depth, string text, string origin)
    {
        var prefix = string.Join('.', parts.Take(depth));
        var key = string.Join('.', parts.Take(depth + 1));
        var f = ConfigSchema.Find(type, parts[depth]) ?? throw Unknown(type, prefix, key, origin);
        JsonNode? value;
        if (depth < parts.Length - 1)
        {
            if (f.Kind != ConfigKind.Section)
                throw new ConfigException($"{origin}: '{string.Join('.', parts)}' goes below '{key}', which is a plain value ({f.TypeName})", string.Join('.', parts), origin);
            value = PatchFromText(f.ValueType, parts, depth + 1, text, origin);
        }
        else if (f.Kind != ConfigKind.Section) value = ConfigValues.ToJson(f, ConfigValues.FromText(f, text, key, origin));
        else if (f.Nullable && text.Trim() is "null" or "none") value = null;
        else if (text.TrimStart().StartsWith('{')) value = Normalize(type, parts[depth], ConfigBinder.ParseObject(text, key, origin), prefix, origin);
        else
            throw new ConfigException($"{origin}: '{key}' is a section; set one of its keys ({ConfigBinder.KeyList(f.ValueType)}), e.g. '{key}.{ConfigSchema.Fields(f.ValueType)[0].Key}=…', or give a JSON object" +
                                      (f.Nullable ? $" ('{key}={{}}' for its defaults, '{key}=null' for off)" : ""), key, origin);
        return new JsonObject { [parts[depth]] = value };
    }

    private static ModelSection Merge(ModelSection model, JsonObject patch)
    {
        var keys = model.Keys;
        MergeInto(keys, patch);
        return model with { KeysJson = Sorted(keys).ToJsonString() };
    }

    /// <summary>Merges key by key: an object merges into an object (an off record is switched on), anything else replaces.</summary>
    private static void MergeInto(JsonObject target, JsonObject patch)
    {
        foreach (var (k, v) in patch)
        {
            if (v is JsonObject o && target[k] is JsonObject t) MergeInto(t, o);
            else target[k] = v?.DeepClone();
        }
    }

    /// <summary>A copy with keys in ordinal order at every level (the canonical form).</summary>
    public static JsonObject Sorted(JsonObject o)
    {
        var result = new JsonObject();
        foreach (var (k, v) in o.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            result[k] = v is JsonObject child ? Sorted(child) : v?.DeepClone();
        return result;
    }

    private static ConfigException Unknown(Type type, string prefix, string key, string origin) =>
        prefix.Contains('.') || !typeof(IModelConfig).IsAssignableFrom(type)
            ? ConfigBinder.Unknown(type, prefix, key, origin)
            : new ConfigException($"{origin}: unknown key '{key}'; valid keys under '{prefix}': {KeyList(type)}", key, origin);
}
