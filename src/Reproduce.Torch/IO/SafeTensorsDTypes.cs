namespace Reproduce.Torch.IO;

/// <summary>The safetensors dtype codes this binding reads and writes, and their element sizes.</summary>
public static class SafeTensorsDTypes
{
    // The official (Rust) writer sorts tensors by its Dtype enum, descending. Among the dtypes
    // supported here that enum runs BOOL < U8 < I8 < I16 < F16 < BF16 < I32 < F32 < F64 < I64.
    private static readonly (string Code, ScalarType Type, int Rank)[] Table =
    [
        ("BOOL", ScalarType.Bool, 0),
        ("U8", ScalarType.UInt8, 1),
        ("I8", ScalarType.Int8, 2),
        ("I16", ScalarType.Int16, 3),
        ("F16", ScalarType.Float16, 4),
        ("BF16", ScalarType.BFloat16, 5),
        ("I32", ScalarType.Int32, 6),
        ("F32", ScalarType.Float32, 7),
        ("F64", ScalarType.Float64, 8),
        ("I64", ScalarType.Int64, 9),
    ];

    /// <summary>Every supported code, in the order the official writer lays them out: I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL.</summary>
    public static IReadOnlyList<string> Codes { get; } = Table.OrderByDescending(t => t.Rank).Select(t => t.Code).ToArray();

    /// <summary>The scalar type for a code (case-sensitive, as in the spec), or false when unsupported.</summary>
    public static bool TryParse(string code, out ScalarType type)
    {
        foreach (var t in Table)
            if (string.Equals(t.Code, code, StringComparison.Ordinal))
            {
                type = t.Type;
                return true;
            }
        type = default;
        return false;
    }

    /// <summary>The code for a scalar type; throws <see cref="ArgumentOutOfRangeException"/> for others.</summary>
    public static string Code(ScalarType type)
    {
        foreach (var t in Table)
            if (t.Type == type) return t.Code;
        throw new ArgumentOutOfRangeException(nameof(type), type, "safetensors has no code for this scalar type in this binding");
    }

    /// <summary>True when <paramref name="type"/> can be stored.</summary>
    public static bool IsSupported(ScalarType type) => Table.Any(t => t.Type == type);

    /// <summary>Position in the official writer's dtype order (higher is written first).</summary>
    internal static int WriteRank(ScalarType type)
    {
        foreach (var t in Table)
            if (t.Type == type) return t.Rank;
        throw new ArgumentOutOfRangeException(nameof(type), type, "unsupported scalar type");
    }
}
