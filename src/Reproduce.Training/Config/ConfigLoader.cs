using System.Text.Json;
using System.Text.Json.Nodes;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Config;

/// <summary>One key of a configuration, for help texts: dotted key, type and default (as JSON).</summary>
/// <param name="Key">Dotted key (<c>optim.lr</c>).</param>
/// <param name="Type">Type as shown in messages.</param>
/// <param name="Default">Default value as compact JSON.</param>
public sealed record ConfigKeyInfo(string Key, string Type, string Default);

/// <summary>
/// Resolves configurations: defaults (the record's initialisers), then JSON files in order (each may set any
/// subset of keys; nested objects merge), then <c>key=value</c> overrides by dotted path in order
/// (<c>optim.lr=5e-4</c>, <c>model.name=deit_small_patch16_224</c>, <c>optim.betas=0.9,0.95</c>,
/// <c>model.drop_path_rate=0.1</c>, <c>model.anf.kernel_size=5</c>, <c>model.specialization.qkv_blocks=[0,4]</c>), then <see cref="IConfigSection.Validate"/>. Every failure is a
/// <see cref="ConfigException"/> naming the file or override, the dotted key and, for an unknown key, the valid
/// keys at that level. JSON files may contain comments and trailing commas; duplicate keys are an error.
/// </summary>
public static class ConfigLoader
{
    private static readonly JsonDocumentOptions FileOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        AllowDuplicateProperties = false,
    };

    /// <summary>Defaults + <paramref name="files"/> + <paramref name="overrides"/>, validated.</summary>
    public static T Load<T>(IEnumerable<string> files, IEnumerable<string> overrides) where T : class, IConfigSection, new()
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(overrides);
        object config = new T();
        foreach (var file in files) config = ConfigBinder.ApplyObject(config, ReadFile(file), "", $"config file '{file}'");
        foreach (var o in overrides) config = Override(config, o);
        var result = (T)config;
        result.Validate("");
        return result;
    }

    /// <summary>A configuration from JSON text (e.g. a run's saved config.json) applied to the defaults, validated.</summary>
    public static T FromJson<T>(string json, string origin = "config JSON") where T : class, IConfigSection, new()
    {
        ArgumentNullException.ThrowIfNull(json);
        var result = (T)ConfigBinder.ApplyObject(new T(), ParseObject(json, origin), "", origin);
        result.Validate("");
        return result;
    }

    /// <summary>A copy of <paramref name="config"/> with <paramref name="overrides"/> (<c>key=value</c>) applied, validated.</summary>
    public static T WithOverrides<T>(T config, IEnumerable<string> overrides) where T : class, IConfigSection
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(overrides);
        object c = config;
        foreach (var o in overrides) c = Override(c, o);
        var result = (T)c;
        result.Validate("");
        return result;
    }

    /// <summary>
    /// Splits <c>key=value</c> at the first '=' (the one assignment parser: the key is trimmed, the value is kept as
    /// given and trimmed where it is parsed); throws naming the text when there is none or the key is empty.
    /// </summary>
    public static KeyValuePair<string, string> ParseAssignment(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var i = text.IndexOf('=', StringComparison.Ordinal);
        if (i <= 0 || text[..i].Trim().Length == 0)
            throw new ConfigException($"override '{text}' is not of the form key=value (e.g. optim.lr=5e-4)", null, $"override '{text}'");
        return KeyValuePair.Create(text[..i].Trim(), text[(i + 1)..]);
    }

    /// <summary>Every key of <typeparamref name="T"/> with its type and default, depth first in declaration order.</summary>
    public static IReadOnlyList<ConfigKeyInfo> Describe<T>() where T : class, IConfigSection, new()
    {
        var list = new List<ConfigKeyInfo>();
        Describe(new T(), "", list);
        return list;
    }

    /// <summary>The keys of a model record with their values (<c>reproduce models --options</c>), dotted as under <c>model.</c> but without it.</summary>
    public static IReadOnlyList<ConfigKeyInfo> DescribeModel(IModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var list = new List<ConfigKeyInfo>();
        Describe(config, "", list);
        return list;
    }

    private static void Describe(object section, string prefix, List<ConfigKeyInfo> into)
    {
        foreach (var f in ConfigSchema.Fields(section.GetType()))
        {
            var key = ConfigCheck.Join(prefix, f.Key);
            var value = f.Property.GetValue(section);
            switch (f.Kind)
            {
                case ConfigKind.Section when value is ModelSection model:
                    Describe(model, key, into);
                    Describe(model.Resolve().Config, key, into);
                    break;
                case ConfigKind.Section when value is null:
                    into.Add(new ConfigKeyInfo(key, $"section or null (null = off; '{key}={{}}' for its defaults)", "null"));
                    Describe(ConfigBinder.New(f.ValueType), key, into);
                    break;
                case ConfigKind.Section:
                    Describe(value!, key, into);
                    break;
                default:
                    into.Add(new ConfigKeyInfo(key, f.TypeName, ConfigValues.ToJson(f, value)?.ToJsonString() ?? "null"));
                    break;
            }
        }
    }

    private static object Override(object config, string text)
    {
        var origin = $"override '{text}'";
        var (key, value) = ParseAssignment(text);
        return ConfigBinder.ApplyOverride(config, key, value, origin);
    }

    private static JsonObject ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"config file '{path}': cannot be read: {e.Message}", null, $"config file '{path}'", e);
        }
        return ParseObject(text, $"config file '{path}'");
    }

    private static JsonObject ParseObject(string text, string origin)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: FileOptions);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";
            throw new ConfigException($"{origin}: invalid JSON{where}: {e.Message}", null, origin, e);
        }
        return node as JsonObject ?? throw new ConfigException($"{origin}: the top level must be a JSON object, got {ConfigValues.Describe(node)}", null, origin);
    }
}
