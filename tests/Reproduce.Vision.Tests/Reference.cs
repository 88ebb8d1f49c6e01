using System.Text.Json;

namespace Reproduce.Vision.Tests;

/// <summary>A float32 array with its shape, as stored by tests/fixtures/gen_vit.py.</summary>
internal sealed record TensorData(long[] Shape, float[] Data)
{
    public Tensor ToTensor() => Tensor.From(Data, Shape);

    public static TensorData Parse(JsonElement e) => new(
        e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray(),
        e.GetProperty("data").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray());
}

/// <summary>One reference model: config, weights in timm key order, an input and PyTorch's outputs.</summary>
internal sealed record ReferenceCase(string Name, VitConfig Config, IReadOnlyList<KeyValuePair<string, TensorData>> StateDict,
    TensorData Input, TensorData Features, TensorData Logits)
{
    /// <summary>The weights as tensors in the current scope, for Module.LoadStateDict.</summary>
    public Dictionary<string, Tensor> StateDictTensors() => StateDict.ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor());

    public override string ToString() => Name;
}

/// <summary>State-dict keys with shapes, and the parameter count, of a timm model layout.</summary>
internal sealed record ReferenceLayout(IReadOnlyList<(string Key, long[] Shape)> Keys, long ParamCount);

/// <summary>Loads tests/fixtures/vit_reference.json (copied beside the test assembly).</summary>
internal static class Reference
{
    private static readonly Lazy<JsonDocument> Doc = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "vit_reference.json"))));

    public static IEnumerable<string> CaseNames => Doc.Value.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!);

    public static ReferenceCase Case(string name)
    {
        var c = Doc.Value.RootElement.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        var sd = c.GetProperty("state_dict").EnumerateObject().Select(p => KeyValuePair.Create(p.Name, TensorData.Parse(p.Value))).ToList();
        return new ReferenceCase(name, ParseConfig(c.GetProperty("config")), sd,
            TensorData.Parse(c.GetProperty("input")), TensorData.Parse(c.GetProperty("features")), TensorData.Parse(c.GetProperty("logits")));
    }

    public static ReferenceLayout Layout(string timmName)
    {
        var l = Doc.Value.RootElement.GetProperty("layouts").GetProperty(timmName);
        var keys = l.GetProperty("keys").EnumerateArray()
            .Select(k => (k[0].GetString()!, k[1].EnumerateArray().Select(x => x.GetInt64()).ToArray())).ToList();
        return new ReferenceLayout(keys, l.GetProperty("param_count").GetInt64());
    }

    private static VitConfig ParseConfig(JsonElement c)
    {
        var init = c.GetProperty("init_values");
        return new VitConfig
        {
            ImgSize = c.GetProperty("img_size").GetInt32(),
            PatchSize = c.GetProperty("patch_size").GetInt32(),
            InChans = c.GetProperty("in_chans").GetInt32(),
            NumClasses = c.GetProperty("num_classes").GetInt32(),
            GlobalPool = c.GetProperty("global_pool").GetString() switch
            {
                "token" => GlobalPool.Token,
                "avg" => GlobalPool.Avg,
                var p => throw new InvalidDataException($"unknown global_pool '{p}'"),
            },
            EmbedDim = c.GetProperty("embed_dim").GetInt32(),
            Depth = c.GetProperty("depth").GetInt32(),
            NumHeads = c.GetProperty("num_heads").GetInt32(),
            MlpRatio = c.GetProperty("mlp_ratio").GetDouble(),
            QkvBias = c.GetProperty("qkv_bias").GetBoolean(),
            InitValues = init.ValueKind == JsonValueKind.Null ? null : init.GetDouble(),
        };
    }
}
