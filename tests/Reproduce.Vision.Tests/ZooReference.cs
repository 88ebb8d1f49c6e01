using System.Text.Json;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Tests;

/// <summary>
/// Loads tests/fixtures/zoo_reference.json (written by tests/fixtures/gen_zoo.py) and replays its seeded
/// weights: the fixture stores no weights, only the seed, the per-key fill rule (mirrored in <see cref="Rule"/>)
/// and per-key checksums that prove the replayed stream equals torch's.
/// </summary>
internal static class ZooReference
{
    private static readonly Lazy<JsonDocument> Doc = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "zoo_reference.json"))));

    public static JsonElement Root => Doc.Value.RootElement;

    public static IEnumerable<string> VitCaseNames => Root.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!);

    public static JsonElement VitCase(string name) => Root.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    /// <summary>The timm-semantics VitConfig of a case's config object (gen_zoo.py's TimmViT arguments).</summary>
    public static VitConfig VitConfigOf(JsonElement cfg)
    {
        var init = cfg.GetProperty("init_values");
        return new VitConfig
        {
            ImgSize = cfg.GetProperty("img_size").GetInt32(),
            PatchSize = cfg.GetProperty("patch_size").GetInt32(),
            InChans = cfg.GetProperty("in_chans").GetInt32(),
            NumClasses = cfg.GetProperty("num_classes").GetInt32(),
            GlobalPool = cfg.GetProperty("global_pool").GetString() == "avg" ? GlobalPool.Avg : GlobalPool.Token,
            EmbedDim = cfg.GetProperty("embed_dim").GetInt32(),
            Depth = cfg.GetProperty("depth").GetInt32(),
            NumHeads = cfg.GetProperty("num_heads").GetInt32(),
            MlpRatio = cfg.GetProperty("mlp_ratio").GetDouble(),
            QkvBias = cfg.GetProperty("qkv_bias").GetBoolean(),
            InitValues = init.ValueKind == JsonValueKind.Null ? null : init.GetDouble(),
            ClassToken = cfg.GetProperty("class_token").GetBoolean(),
            RegTokens = cfg.GetProperty("reg_tokens").GetInt32(),
            NoEmbedClass = cfg.GetProperty("no_embed_class").GetBoolean(),
            DynamicImgSize = cfg.GetProperty("dynamic_img_size").GetBoolean(),
        };
    }

    public static long[] Shape(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt64()).ToArray();

    /// <summary>gen_zoo.py's <c>rule</c>: (scale, offset, absolute) for torch.randn(shape) of a state-dict key.</summary>
    public static (double Scale, double Offset, bool Absolute) Rule(string key, long[] shape)
    {
        if (key.EndsWith("running_var", StringComparison.Ordinal)) return (0.5, 0.5, true);
        if (key.EndsWith("running_mean", StringComparison.Ordinal)) return (0.1, 0.0, false);
        var dot = key.LastIndexOf('.');
        if (dot > 0 && key[(dot + 1)..] == "weight")
        {
            var owner = key[..dot].Split('.')[^1];
            if (owner is "norm1" or "norm2" or "norm" or "fc_norm" || owner.StartsWith("bn", StringComparison.Ordinal)) return (0.1, 1.0, false);
        }
        if (key.EndsWith("gamma", StringComparison.Ordinal)) return (0.1, 0.5, false);
        if (key is "cls_token" or "reg_token" or "pos_embed") return (0.2, 0.0, false);
        if (shape.Length >= 2) return (1.0 / Math.Sqrt(shape.Skip(1).Aggregate(1L, (a, b) => a * b)), 0.0, false);
        return (0.05, 0.0, false);
    }

    /// <summary>
    /// Fills <paramref name="model"/>'s state dict in key order from <c>Torch.ManualSeed(seed)</c> as gen_zoo.py's
    /// <c>fill_seeded</c> does, and checks each key against the stored checksums (order, sum, first values).
    /// </summary>
    public static void FillSeeded(Module model, ulong seed, JsonElement checks)
    {
        var expected = checks.EnumerateArray().ToList();
        Torch.Torch.ManualSeed(seed);
        using var scope = Scope.Enter();
        using var noGrad = Torch.Torch.NoGrad();
        var i = 0;
        foreach (var (key, t) in model.StateDict())
        {
            if (key.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
            Assert.True(i < expected.Count, $"the C# state dict has more keys than the fixture (at {key})");
            Assert.Equal(expected[i][0].GetString(), key);
            var (scale, offset, absolute) = Rule(key, t.Shape);
            var z = Torch.Torch.Randn(t.Shape);
            if (absolute) z = z.Abs();
            t.Copy_(z.Mul(scale).Add(offset));
            var values = t.Reshape(-1);
            var sum = values.Double().Sum().ToDouble();
            var want = expected[i][1].GetDouble();
            Assert.True(Math.Abs(sum - want) <= 1e-6 * Math.Max(1, Math.Abs(want)), $"{key}: replayed sum {sum} vs torch {want} (RNG streams differ?)");
            var first = values.Slice(0, 0, 3).ToArray<float>();
            var wantFirst = expected[i][2].EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();
            Assert.Equal(wantFirst, first.Take(wantFirst.Length));
            i++;
        }
        Assert.Equal(expected.Count, i);
    }
}
