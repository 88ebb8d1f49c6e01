using System.Globalization;
using System.Text.Json;

namespace Reproduce.Torch.Tests;

/// <summary>
/// tests/fixtures/ops.json, written by tests/fixtures/gen_ops.py with PyTorch 1.13: inputs and
/// outputs of ops as flat data plus shape. Loaded once (copied beside the test assembly).
/// </summary>
internal static class Fixtures
{
    private static readonly Lazy<JsonDocument> Doc = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", "ops.json");
        return JsonDocument.Parse(File.ReadAllText(path));
    });

    /// <summary>The root object.</summary>
    public static JsonElement Root => Doc.Value.RootElement;

    /// <summary>Names of the op cases.</summary>
    public static IEnumerable<string> CaseNames => Root.GetProperty("cases").EnumerateObject().Select(p => p.Name);

    /// <summary>One op case.</summary>
    public static FixtureCase Case(string name) => new(name, Root.GetProperty("cases").GetProperty(name));

    /// <summary>A tensor stored as {dtype, shape, data}.</summary>
    public static Tensor Decode(JsonElement t)
    {
        var shape = t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var data = t.GetProperty("data");
        return t.GetProperty("dtype").GetString() switch
        {
            "float32" => Tensor.From(data.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray(), shape),
            "float64" => Tensor.From(data.EnumerateArray().Select(e => e.GetDouble()).ToArray(), shape),
            "int64" => Tensor.From(data.EnumerateArray().Select(e => e.GetInt64()).ToArray(), shape),
            "bool" => Tensor.From(data.EnumerateArray().Select(e => e.GetInt32() != 0).ToArray(), shape),
            var d => throw new InvalidDataException($"fixture dtype {d}"),
        };
    }

    /// <summary>
    /// Asserts <paramref name="actual"/> matches <paramref name="expected"/> in dtype, shape and values:
    /// float32 within 1e-5 + 1e-5·|e|, float64 within 1e-10 + 1e-10·|e|, integers and bools exactly.
    /// Returns the largest absolute difference.
    /// </summary>
    public static double AssertClose(Tensor actual, Tensor expected, string what)
    {
        Assert.True(actual.DType == expected.DType, $"{what}: dtype {actual.Describe()} but PyTorch gives {expected.Describe()}");
        Assert.True(actual.Shape.SequenceEqual(expected.Shape), $"{what}: shape {actual.Describe()} but PyTorch gives {expected.Describe()}");
        var tol = expected.DType switch
        {
            ScalarType.Float32 => 1e-5,
            ScalarType.Float64 => 1e-10,
            _ => 0.0,
        };
        using var s = Scope.Enter();
        var a = actual.To(ScalarType.Float64).Contiguous().ToArray<double>();
        var e = expected.To(ScalarType.Float64).Contiguous().ToArray<double>();
        var worst = 0.0;
        for (var k = 0; k < a.Length; k++)
        {
            var diff = Math.Abs(a[k] - e[k]);
            if (double.IsNaN(a[k]) != double.IsNaN(e[k]) || diff > tol + tol * Math.Abs(e[k]))
                Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                    $"{what}: element {k} is {a[k]:R}, PyTorch gives {e[k]:R} (|diff| {diff:E2}, tolerance {tol:E0} rel+abs)"));
            if (!double.IsNaN(diff)) worst = Math.Max(worst, diff);
        }
        return worst;
    }
}

/// <summary>One case of the fixture: named inputs, named expected outputs, parameters.</summary>
internal sealed class FixtureCase(string name, JsonElement element)
{
    /// <summary>The case name.</summary>
    public string Name { get; } = name;

    /// <summary>Input tensor <paramref name="key"/>.</summary>
    public Tensor In(string key) => Fixtures.Decode(element.GetProperty("inputs").GetProperty(key));

    /// <summary>Names of the expected outputs.</summary>
    public IEnumerable<string> OutputNames => element.GetProperty("outputs").EnumerateObject().Select(p => p.Name);

    /// <summary>Expected output <paramref name="key"/>.</summary>
    public Tensor Out(string key) => Fixtures.Decode(element.GetProperty("outputs").GetProperty(key));

    /// <summary>An integer-list parameter.</summary>
    public long[] Ints(string key) => element.GetProperty("params").GetProperty(key).EnumerateArray().Select(e => e.GetInt64()).ToArray();

    /// <summary>An integer parameter.</summary>
    public long Int(string key) => element.GetProperty("params").GetProperty(key).GetInt64();

    /// <summary>A float parameter.</summary>
    public double Double(string key) => element.GetProperty("params").GetProperty(key).GetDouble();
}
