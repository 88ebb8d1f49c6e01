using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Reproduce.Training.Config;

/// <summary>
/// The canonical JSON form of a configuration and its hash. Canonical means: every key present (defaults
/// included), object keys sorted by ordinal order at every level, enums by name, integers as integers, floats
/// in .NET's shortest round-trip form, no insignificant whitespace, non-ASCII text unescaped. Two configs that
/// resolve to the same values therefore give the same bytes — whatever the key order or the mix of file and
/// overrides they came from — and the SHA-256 of those bytes identifies a run (<see cref="Hash"/>).
/// Every key counts, including ones that do not change results (threads, checkpoint cadence), and adding a
/// key to a record changes every hash — except a key marked <see cref="ConfigOmitWhenDefaultAttribute"/>, which is
/// written only when it differs from its default (so configurations that leave it alone keep their hash). The model
/// section writes <c>name</c>, <c>weights</c> and only the record keys that were set (<see cref="ModelSection"/>), so
/// its registry defaults never enter the hash.
/// </summary>
public static class ConfigJson
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The configuration as a JSON object with sorted keys.</summary>
    public static JsonObject ToNode(IConfigSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (section is ModelSection model)
        {
            var keys = model.Keys;
            keys["name"] = model.Name;
            keys["weights"] = model.Weights;
            return ModelBinder.Sorted(keys);
        }
        var o = new JsonObject();
        IConfigSection? defaults = null;
        foreach (var f in ConfigSchema.Fields(section.GetType()).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var value = f.Property.GetValue(section);
            if (f.Property.IsDefined(typeof(ConfigOmitWhenDefaultAttribute), inherit: false))
            {
                defaults ??= (IConfigSection)Activator.CreateInstance(section.GetType())!;
                var fallback = f.Property.GetValue(defaults);
                var same = f.Kind == ConfigKind.Section
                    ? value is null ? fallback is null : fallback is not null && JsonNode.DeepEquals(ToNode((IConfigSection)value), ToNode((IConfigSection)fallback))
                    : JsonNode.DeepEquals(ConfigValues.ToJson(f, value), ConfigValues.ToJson(f, fallback));
                if (same) continue;
            }
            o[f.Key] = f.Kind switch
            {
                ConfigKind.Section => ToNode((IConfigSection)value!),
                _ => ConfigValues.ToJson(f, value),
            };
        }
        return o;
    }

    /// <summary>The canonical compact JSON text (what <see cref="Hash"/> hashes).</summary>
    public static string Canonical(IConfigSection section) => ToNode(section).ToJsonString(Compact);

    /// <summary>The canonical form, indented for people (same keys and values; written as a run's config.json).</summary>
    public static string Indented(IConfigSection section) => ToNode(section).ToJsonString(Pretty) + "\n";

    /// <summary>Lower-case hex SHA-256 of the UTF-8 bytes of <see cref="Canonical"/>.</summary>
    public static string Hash(IConfigSection section) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(section))));
}
