using System.Text.Json;
using System.Text.Json.Nodes;

namespace Reproduce.Training.Config;

/// <summary>
/// Reads the configurations written before the model's record became typed keys, so every committed config.json and
/// script still loads: <c>model.overrides.{key}</c> (an object in files, <c>model.overrides.key=value</c> in overrides)
/// maps to <c>model.{key}</c>, with the old aliases (<c>drop_path</c>, <c>drop</c>, <c>specialize</c>) and the old string
/// forms of the nested records (<c>sta=on</c>, <c>anf=kernel_size=5,conv_axis=grid2d,after_blocks=3/7</c>,
/// <c>specialization=norm+qkv+lora16,qkv_blocks=0:6</c>, <c>none</c>) turned into the typed keys; and the empty top-level
/// <c>sta</c> / <c>anf</c> / <c>specialization</c> sections, which nothing read, are dropped. Nothing new is written in
/// these forms.
/// </summary>
internal static class LegacyModelKeys
{
    /// <summary>The old name of the model's block of options.</summary>
    public const string Overrides = "overrides";

    private static readonly string[] Dead = ["sta", "anf", "specialization"];
    private static readonly string[] Records = ["sta", "anf"];

    /// <summary>Whether a top-level key is one of the old, never-read sections.</summary>
    public static bool IsDeadSection(string name) => Dead.Contains(name);

    /// <summary>Accepts an old empty section (dropped); refuses one with content, which would be silently ignored.</summary>
    public static void CheckDeadSection(JsonNode? node, string key, string origin)
    {
        if (node is null || node is JsonObject { Count: 0 }) return;
        throw DeadSectionOverride(key, origin);
    }

    /// <summary>The refusal of a key in an old top-level section.</summary>
    public static ConfigException DeadSectionOverride(string key, string origin)
    {
        var section = key.Split('.')[0];
        return new ConfigException($"{origin}: '{key}': the top-level '{section}' section was never read by any model; set 'model.{section}.<key>' (e.g. model.{section}={{}} to switch it on)", key, origin);
    }

    /// <summary>An old <c>model.overrides</c> object applied as typed keys.</summary>
    public static ModelSection ApplyObject(ModelSection model, JsonNode? node, string prefix, string origin)
    {
        var key = ConfigBinder.Join(prefix, Overrides);
        if (node is not JsonObject o) throw ConfigValues.TypeError(origin, key, "an object of options", ConfigValues.Describe(node));
        foreach (var (name, value) in o)
        {
            var text = value is null ? "null"
                : value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>()
                : value.ToJsonString();
            model = Apply(model, prefix, name, text, origin);
        }
        return model;
    }

    /// <summary>An old <c>model.overrides.key=value</c> override applied as typed keys.</summary>
    public static ModelSection Set(ModelSection model, string[] parts, int depth, string text, string origin)
    {
        if (depth != parts.Length - 1)
            throw new ConfigException($"{origin}: '{string.Join('.', parts)}' is not an option (write model.<key>=<value>)", string.Join('.', parts), origin);
        return Apply(model, string.Join('.', parts.Take(depth - 1)), parts[depth], text, origin);
    }

    private static ModelSection Apply(ModelSection model, string prefix, string rawName, string text, string origin)
    {
        var name = rawName.Trim().Replace('-', '_') switch
        {
            "drop_path" => "drop_path_rate",
            "drop" => "drop_rate",
            "specialize" => "specialization",
            var n => n,
        };
        foreach (var (key, value) in Assignments(name, text.Trim(), origin))
            model = ModelBinder.Set(model, (prefix.Length == 0 ? key : prefix + "." + key).Split('.'), prefix.Length == 0 ? 0 : prefix.Split('.').Length, value, origin);
        return model;
    }

    /// <summary>The typed assignments (relative to <c>model.</c>) an old option stands for.</summary>
    private static IEnumerable<(string Key, string Value)> Assignments(string name, string text, string origin)
    {
        if (text is "none" or "null" && (Records.Contains(name) || name == "specialization"))
        {
            yield return (name, "null");
            yield break;
        }
        if (Records.Contains(name))
        {
            yield return (name, "{}");
            if (text is "on" or "default") yield break;
            foreach (var (k, v) in Pairs(text, name, origin))
                yield return ($"{name}.{k}", k == "after_blocks" ? (v == "default" ? "null" : "[" + v.Replace('/', ',') + "]") : v);
            yield break;
        }
        if (name != "specialization")
        {
            yield return (name, text);
            yield break;
        }
        var comma = text.IndexOf(',', StringComparison.Ordinal);
        var head = (comma < 0 ? text : text[..comma]).Split('+', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string Range(bool on) => on ? "null" : "[0,0]";
        yield return (name, "{}");
        yield return ("specialization.norms", (head.Contains("norm") || head.Contains("ln")) ? "true" : "false");
        yield return ("specialization.layer_scales", (head.Contains("norm") || head.Contains("ls")) ? "true" : "false");
        yield return ("specialization.qkv_blocks", Range(head.Contains("qkv")));
        yield return ("specialization.proj_blocks", Range(head.Contains("proj")));
        yield return ("specialization.mlp_blocks", Range(head.Contains("mlp")));
        foreach (var p in head.Where(p => p is not ("norm" or "ln" or "ls" or "qkv" or "proj" or "mlp")))
            yield return p.StartsWith("lora", StringComparison.Ordinal)
                ? ("specialization.lora_rank", p[4..])
                : throw new ConfigException($"{origin}: 'model.specialization': unknown part '{p}' in the old form '{text}' (norm, ln, ls, qkv, proj, mlp, lora<r>)", "model.specialization", origin);
        if (comma < 0) yield break;
        foreach (var (k, v) in Pairs(text[(comma + 1)..], name, origin))
            yield return ($"specialization.{k}", k.EndsWith("_blocks", StringComparison.Ordinal)
                ? v switch { "first_third" => "null", "none" => "[0,0]", _ => "[" + v.Replace(':', ',') + "]" }
                : v);
    }

    private static IEnumerable<(string Key, string Value)> Pairs(string text, string name, string origin)
    {
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var i = part.IndexOf('=', StringComparison.Ordinal);
            if (i <= 0) throw new ConfigException($"{origin}: 'model.{name}': '{part}' in the old form '{text}' is not key=value", "model." + name, origin);
            yield return (part[..i].Trim().Replace('-', '_'), part[(i + 1)..].Trim());
        }
    }
}
