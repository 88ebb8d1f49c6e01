using System.Text.Json;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>The JSON files under tests/fixtures/ssl (written by the gen_*.py scripts beside them) and comparison helpers.</summary>
internal static class SslFixture
{
    private static readonly Dictionary<string, JsonElement> Docs = [];

    /// <summary>The root of fixtures/ssl/<paramref name="name"/>.json.</summary>
    public static JsonElement Load(string name)
    {
        lock (Docs)
        {
            if (!Docs.TryGetValue(name, out var root))
            {
                var path = Path.Combine(AppContext.BaseDirectory, "fixtures", "ssl", name + ".json");
                Docs[name] = root = JsonDocument.Parse(File.ReadAllBytes(path)).RootElement.Clone();
            }
            return root;
        }
    }

    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    public static long[] Longs(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt64()).ToArray();

    public static Tensor T(JsonElement e, params long[] shape) => Tensor.From(Doubles(e), shape);

    /// <summary>Asserts max|actual − expected| ≤ tol · max(1, max|expected|).</summary>
    public static void AssertClose(double[] expected, Tensor actual, string what, double tol = 1e-10)
    {
        using var s = Scope.Enter();
        AssertClose(expected, actual.To(ScalarType.Float64).Contiguous().ToArray<double>(), what, tol);
    }

    public static void AssertClose(double[] expected, double[] actual, string what, double tol = 1e-10)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        var scale = Math.Max(1, expected.Max(Math.Abs));
        var err = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(err <= tol * scale, $"{what}: max abs error {err:G3} exceeds {tol:G1} x {scale:G3}");
    }

    public static void AssertClose(double expected, double actual, string what, double tol = 1e-10) =>
        Assert.True(Math.Abs(expected - actual) <= tol * Math.Max(1, Math.Abs(expected)), $"{what}: {actual:R}, expected {expected:R}");
}
