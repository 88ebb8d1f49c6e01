using System.Globalization;
using System.Reflection;
using System.Text;

namespace Reproduce.Vision.Models;

/// <summary>One overridable option of a configuration record.</summary>
/// <param name="Name">snake_case name (timm's argument name where timm has the option: <c>drop_path_rate</c>).</param>
/// <param name="Type">Value type: <c>int</c>, <c>float</c>, <c>bool</c>, <c>str</c>, an enum's values joined by
/// '|', prefixed <c>none|</c> where null is allowed.</param>
/// <param name="Property">The record property behind it.</param>
public sealed record OptionInfo(string Name, string Type, PropertyInfo Property);

/// <summary>
/// Configurations as data (docs/architecture.md "Configs are data"): options of a configuration record are its public
/// init-only properties, named in snake_case (<c>DropPathRate</c> → <c>drop_path_rate</c>), overridden by
/// name from strings (<c>--set drop_path_rate=0.1</c>), type-checked, with unknown names rejected and the
/// valid ones listed. New options added to a record are picked up without touching this class.
/// Values: integers and floats in invariant culture, <c>true</c>/<c>false</c>, <c>none</c> for a nullable
/// option, enum values in snake_case (<c>global_pool=avg</c>, <c>embed_layer=conv_stem</c>; flags joined
/// by '+'), strings as given, integer lists comma-separated (<c>layers=3,4,6,3</c>), and any other type through its
/// static <c>Parse(string)</c> (its <c>ToString()</c> writing the same form: <c>specialization=norm+qkv</c>, <c>anf=on</c>).
/// Aliases: <c>drop_path</c> → <c>drop_path_rate</c>, <c>drop</c> → <c>drop_rate</c> (timm's training flags
/// <c>--drop-path</c>, <c>--drop</c>), <c>specialize</c> → <c>specialization</c>; '-' may stand for '_'.
/// </summary>
public static class ModelOptions
{
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["drop_path"] = "drop_path_rate",
        ["drop"] = "drop_rate",
        ["specialize"] = "specialization",
    };

    /// <summary>snake_case of a PascalCase name: <c>QkvBias</c> → <c>qkv_bias</c>, <c>ClsTokenInitStd</c> → <c>cls_token_init_std</c>.</summary>
    public static string SnakeCase(string pascal)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            if (char.IsUpper(c))
            {
                var prevLower = i > 0 && (char.IsLower(pascal[i - 1]) || char.IsDigit(pascal[i - 1]));
                var nextLower = i + 1 < pascal.Length && char.IsLower(pascal[i + 1]) && i > 0 && char.IsUpper(pascal[i - 1]);
                if (prevLower || nextLower) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>The options of a configuration type, in declaration order.</summary>
    public static IReadOnlyList<OptionInfo> Describe(Type configType) =>
        configType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract")
            .Select(p => new OptionInfo(SnakeCase(p.Name), TypeName(p.PropertyType), p))
            .ToList();

    /// <summary>Splits <c>key=value</c> (as given to <c>--set</c>); throws naming the text when there is no '='.</summary>
    public static KeyValuePair<string, string> ParseAssignment(string text)
    {
        var i = text.IndexOf('=', StringComparison.Ordinal);
        if (i <= 0) throw new ArgumentException($"option override '{text}' is not of the form key=value");
        return KeyValuePair.Create(text[..i].Trim(), text[(i + 1)..].Trim());
    }

    /// <summary>
    /// A copy of <paramref name="config"/> with <paramref name="overrides"/> applied in order, then validated.
    /// Throws <see cref="ArgumentException"/> naming <paramref name="context"/> and the key for an unknown
    /// option (listing the valid ones), a value of the wrong type, or a resulting configuration that fails
    /// <see cref="IModelConfig.Validate"/>.
    /// </summary>
    public static T Apply<T>(T config, IEnumerable<KeyValuePair<string, string>> overrides, string context = "model") where T : class, IModelConfig
    {
        ArgumentNullException.ThrowIfNull(config);
        var type = config.GetType();
        var options = Describe(type).ToDictionary(o => o.Name, StringComparer.Ordinal);
        var clone = type.GetMethod("<Clone>$") ?? throw new ArgumentException($"{context}: {type.Name} is not a record, so its options cannot be overridden");
        var copy = (T)clone.Invoke(config, null)!;
        foreach (var (rawKey, value) in overrides)
        {
            var key = rawKey.Trim().Replace('-', '_');
            if (Aliases.TryGetValue(key, out var target)) key = target;
            if (!options.TryGetValue(key, out var option))
                throw new ArgumentException($"{context}: unknown option '{rawKey}'; valid options: {string.Join(", ", options.Keys)}");
            option.Property.SetValue(copy, Parse(option, value, context));
        }
        try
        {
            copy.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{context}: {e.Message}", e);
        }
        return copy;
    }

    /// <summary>Every option of <paramref name="config"/> with its value formatted as <see cref="Apply{T}"/> parses it.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Values(IModelConfig config) =>
        Describe(config.GetType()).Select(o => KeyValuePair.Create(o.Name, Format(o.Property.GetValue(config)))).ToList();

    private static string Format(object? value) => value switch
    {
        null => "none",
        bool b => b ? "true" : "false",
        Enum e => string.Join("+", e.ToString().Split(", ").Select(SnakeCase)),
        int[] list => string.Join(",", list.Select(v => v.ToString(CultureInfo.InvariantCulture))),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string TypeName(Type t)
    {
        var inner = Nullable.GetUnderlyingType(t);
        if (inner is not null) return "none|" + TypeName(inner);
        if (t == typeof(int) || t == typeof(long)) return "int";
        if (t == typeof(double) || t == typeof(float)) return "float";
        if (t == typeof(bool)) return "bool";
        if (t == typeof(string)) return "str";
        if (t.IsEnum) return string.Join("|", Enum.GetNames(t).Select(SnakeCase));
        if (t == typeof(int[])) return "int,int,...";
        return TextParser(t) is not null ? "none|spec (" + t.Name + ")" : t.Name;
    }

    private static object? Parse(OptionInfo option, string value, string context)
    {
        var t = option.Property.PropertyType;
        var inner = Nullable.GetUnderlyingType(t);
        var v = value.Trim();
        if (inner is not null)
        {
            if (v.Equals("none", StringComparison.OrdinalIgnoreCase) || v.Equals("null", StringComparison.OrdinalIgnoreCase)) return null;
            t = inner;
        }
        ArgumentException Bad(string expected) =>
            new($"{context}: option '{option.Name}' expects {expected}, got '{value}'");
        if (t == typeof(int))
            return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : throw Bad("an integer");
        if (t == typeof(long))
            return long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : throw Bad("an integer");
        if (t == typeof(double))
            return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : throw Bad("a finite number");
        if (t == typeof(float))
            return float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && float.IsFinite(f) ? f : throw Bad("a finite number");
        if (t == typeof(bool))
            return v.ToLowerInvariant() switch
            {
                "true" or "1" or "yes" => true,
                "false" or "0" or "no" => false,
                _ => throw Bad("true or false"),
            };
        if (t == typeof(string)) return value;
        if (t.IsEnum)
        {
            var names = Enum.GetNames(t).ToDictionary(SnakeCase, n => n, StringComparer.OrdinalIgnoreCase);
            var parts = v.Split('+', StringSplitOptions.TrimEntries);
            var flags = t.IsDefined(typeof(FlagsAttribute), false);
            if ((parts.Length > 1 && !flags) || parts.Any(p => !names.ContainsKey(p)))
                throw Bad(string.Join(flags ? " / " : " or ", names.Keys) + (flags ? " (joined by '+')" : ""));
            ulong bits = 0;
            foreach (var p in parts) bits |= Convert.ToUInt64(Enum.Parse(t, names[p]), CultureInfo.InvariantCulture);
            return Enum.ToObject(t, bits);
        }
        if (t == typeof(int[]))
            return v.Split(',', StringSplitOptions.TrimEntries).Select(x =>
                int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw Bad("integers separated by ','")).ToArray();
        if (TextParser(t) is { } parse)
        {
            if (v.Equals("none", StringComparison.OrdinalIgnoreCase) || v.Equals("null", StringComparison.OrdinalIgnoreCase)) return null;
            try
            {
                return parse.Invoke(null, [v]);
            }
            catch (TargetInvocationException e) when (e.InnerException is ArgumentException cause)
            {
                throw new ArgumentException($"{context}: option '{option.Name}': {cause.Message}", cause);
            }
        }
        throw new ArgumentException($"{context}: option '{option.Name}' has type {t.Name}, which cannot be set from text");
    }

    /// <summary>A public static <c>Parse(string)</c> of <paramref name="t"/> returning a <paramref name="t"/>, or null.</summary>
    private static MethodInfo? TextParser(Type t) =>
        t.GetMethod("Parse", BindingFlags.Public | BindingFlags.Static, [typeof(string)]) is { } m && t.IsAssignableFrom(m.ReturnType) ? m : null;
}
