using System.Text.Json;

namespace Reproduce.Vision.Tests;

/// <summary>One case of tests/fixtures/transforms_reference.json (written by gen_transforms.py).</summary>
internal sealed record TransformCase(string Name, JsonElement Params, string DType, long[] Shape, double[] Data)
{
    public double P(string name) => Params.GetProperty(name).GetDouble();
    public int I(string name) => (int)Params.GetProperty(name).GetDouble();
    public double[] Box => Params.GetProperty("box").EnumerateArray().Select(x => x.GetDouble()).ToArray();
    public override string ToString() => Name;
}

/// <summary>Loads the torchvision reference values for the transform tests.</summary>
internal static class TransformFixture
{
    private static readonly Lazy<JsonDocument> Doc = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "transforms_reference.json"))));

    public static string TokenLabelFile => Path.Combine(AppContext.BaseDirectory, "fixtures", "tokenlabel_sample.pt");

    public static IEnumerable<string> Names => Doc.Value.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!);

    public static TransformCase Case(string name)
    {
        var c = Doc.Value.RootElement.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        return new TransformCase(name, c.GetProperty("params"), c.GetProperty("dtype").GetString()!,
            c.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray(),
            c.GetProperty("data").EnumerateArray().Select(x => x.GetDouble()).ToArray());
    }

    /// <summary>A named input ("input" or "low": uint8 [3,12,16]; "roi_input": float [1,3,6,7]) in the current scope.</summary>
    public static Tensor Input(string name = "input")
    {
        var e = Doc.Value.RootElement.GetProperty(name);
        var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        var data = e.GetProperty("data").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        return name == "roi_input"
            ? Tensor.From<float>(data.Select(v => (float)v).ToArray(), shape)
            : Tensor.From<byte>(data.Select(v => (byte)v).ToArray(), shape);
    }
}
