using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Config;

/// <summary>What kind of value a configuration key holds.</summary>
public enum ConfigKind
{
    /// <summary>32-bit integer.</summary>
    Int,
    /// <summary>64-bit integer.</summary>
    Long,
    /// <summary>Floating-point number.</summary>
    Float,
    /// <summary>true / false.</summary>
    Bool,
    /// <summary>Text.</summary>
    String,
    /// <summary>One of a fixed set of names.</summary>
    Enum,
    /// <summary>A list of scalars.</summary>
    List,
    /// <summary>A nested <see cref="IConfigSection"/> or model record; a nullable one is off when null.</summary>
    Section,
    /// <summary>A half-open block range, <c>[start, end]</c> in JSON.</summary>
    Range,
}

/// <summary>One key of a configuration section.</summary>
/// <param name="Key">Its name in JSON and overrides (snake_case).</param>
/// <param name="Property">The record property behind it.</param>
/// <param name="Kind">Value kind.</param>
/// <param name="ValueType">The value's CLR type (without <c>Nullable&lt;&gt;</c>; the element type for lists).</param>
/// <param name="ElementKind">For lists, the kind of the elements.</param>
/// <param name="Nullable">Whether null is allowed.</param>
public sealed record ConfigField(string Key, PropertyInfo Property, ConfigKind Kind, Type ValueType, ConfigKind? ElementKind, bool Nullable)
{
    /// <summary>The type as shown in messages: <c>float</c>, <c>int</c>, <c>one of adamw|sgd|lamb</c>, <c>list of float</c>, …</summary>
    public string TypeName
    {
        get
        {
            var t = Kind == ConfigKind.List ? "list of " + ScalarName(ElementKind!.Value, ValueType) : ScalarName(Kind, ValueType);
            return Nullable ? t + " or null" : t;
        }
    }

    private static string ScalarName(ConfigKind kind, Type type) => kind switch
    {
        ConfigKind.Int or ConfigKind.Long => "integer",
        ConfigKind.Float => "float",
        ConfigKind.Bool => "bool (true/false)",
        ConfigKind.String => "string",
        ConfigKind.Enum => "one of " + string.Join("|", ConfigSchema.EnumNames(type)),
        ConfigKind.Section => "section",
        ConfigKind.Range => "block range [start, end] (end exclusive)",
        _ => kind.ToString(),
    };
}

/// <summary>
/// The keys of configuration sections, found by reflection over their public init-only properties and cached.
/// Names are snake_case (<see cref="SnakeCase"/>) unless a <see cref="ConfigNameAttribute"/> says otherwise.
/// A section is an <see cref="IConfigSection"/> or a model configuration record (<see cref="IModelConfig"/> and the
/// records nested in it, such as <see cref="VitConfig.Anf"/>): one schema, so a model option is a key like any other.
/// </summary>
public static class ConfigSchema
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyList<ConfigField>> Cache = new();

    /// <summary>The keys of a section type, in declaration order.</summary>
    public static IReadOnlyList<ConfigField> Fields(Type sectionType)
    {
        ArgumentNullException.ThrowIfNull(sectionType);
        return Cache.GetOrAdd(sectionType, Build);
    }

    /// <summary>The key named <paramref name="key"/>, or null.</summary>
    public static ConfigField? Find(Type sectionType, string key) => Fields(sectionType).FirstOrDefault(f => f.Key == key);

    /// <summary>snake_case of a PascalCase name: <c>WeightDecay</c> → <c>weight_decay</c>, <c>ImgSize</c> → <c>img_size</c>, <c>D1</c> → <c>d1</c>.</summary>
    public static string SnakeCase(string pascal)
    {
        ArgumentNullException.ThrowIfNull(pascal);
        var sb = new StringBuilder();
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            if (char.IsUpper(c))
            {
                var afterLower = i > 0 && (char.IsLower(pascal[i - 1]) || char.IsDigit(pascal[i - 1]));
                var acronymEnd = i > 0 && char.IsUpper(pascal[i - 1]) && i + 1 < pascal.Length && char.IsLower(pascal[i + 1]);
                if (afterLower || acronymEnd) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>The configuration names of an enum's members, in declaration order.</summary>
    public static IReadOnlyList<string> EnumNames(Type enumType) =>
        enumType.GetFields(BindingFlags.Public | BindingFlags.Static).Select(NameOf).ToList();

    /// <summary>The configuration name of one enum value.</summary>
    public static string EnumName(Enum value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var field = value.GetType().GetField(value.ToString(), BindingFlags.Public | BindingFlags.Static)
                    ?? throw new ArgumentException($"{value.GetType().Name} has no member {value}");
        return NameOf(field);
    }

    /// <summary>The enum value whose configuration name is <paramref name="name"/> ('-' may stand for '_', case ignored), or null.</summary>
    public static object? ParseEnum(Type enumType, string name)
    {
        var wanted = name.Trim().Replace('-', '_');
        foreach (var f in enumType.GetFields(BindingFlags.Public | BindingFlags.Static))
            if (string.Equals(NameOf(f), wanted, StringComparison.OrdinalIgnoreCase)) return f.GetValue(null);
        return null;
    }

    private static string NameOf(MemberInfo m) => m.GetCustomAttribute<ConfigNameAttribute>()?.Name ?? SnakeCase(m.Name);

    private static IReadOnlyList<ConfigField> Build(Type type)
    {
        if (!IsSection(type))
            throw new ArgumentException($"{type.Name} is not a configuration section (neither an IConfigSection nor a model record)");
        var fields = new List<ConfigField>();
        var nullability = new NullabilityInfoContext();
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0 || !p.CanRead || p.SetMethod is not { IsPublic: true } || p.Name == "EqualityContract") continue;
            var nullable = nullability.Create(p).WriteState == NullabilityState.Nullable;
            var t = p.PropertyType;
            var underlying = System.Nullable.GetUnderlyingType(t);
            if (underlying is not null)
            {
                t = underlying;
                nullable = true;
            }
            ConfigKind kind;
            ConfigKind? element = null;
            var valueType = t;
            if ((t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyList<>)) || (t.IsArray && t.GetArrayRank() == 1))
            {
                kind = ConfigKind.List;
                valueType = t.IsArray ? t.GetElementType()! : t.GetGenericArguments()[0];
                element = ScalarKind(valueType) ?? throw Unsupported(type, p);
            }
            else if (t == typeof(BlockRange)) kind = ConfigKind.Range;
            else if (IsSection(t)) kind = ConfigKind.Section;
            else kind = ScalarKind(t) ?? throw Unsupported(type, p);
            if (nullable && kind == ConfigKind.Section && typeof(IConfigSection).IsAssignableFrom(t))
                throw new InvalidOperationException($"{type.Name}.{p.Name}: run config sections cannot be nullable (only model records can be off)");
            var field = new ConfigField(NameOf(p), p, kind, valueType, element, nullable);
            if (fields.Any(f => f.Key == field.Key))
                throw new InvalidOperationException($"{type.Name}: two properties map to the key '{field.Key}'");
            fields.Add(field);
        }
        return fields;
    }

    /// <summary>Whether <paramref name="t"/> is a section: an <see cref="IConfigSection"/>, or a model record class of Reproduce.Vision.</summary>
    public static bool IsSection(Type t) =>
        typeof(IConfigSection).IsAssignableFrom(t)
        || (t.IsClass && t.Assembly == typeof(IModelConfig).Assembly && t.GetMethod("<Clone>$") is not null);

    private static ConfigKind? ScalarKind(Type t) =>
        t == typeof(int) ? ConfigKind.Int
        : t == typeof(long) ? ConfigKind.Long
        : t == typeof(double) ? ConfigKind.Float
        : t == typeof(bool) ? ConfigKind.Bool
        : t == typeof(string) ? ConfigKind.String
        : t.IsEnum ? ConfigKind.Enum
        : null;

    private static InvalidOperationException Unsupported(Type section, PropertyInfo p) =>
        new($"{section.Name}.{p.Name}: type {p.PropertyType.Name} is not supported in configurations");
}
