namespace Reproduce.Vision.Tests;

/// <summary>State-dict layouts, parameter counts and GFLOPs of the registered models against timm, TokenLabeling and the papers.</summary>
public class ZooLayoutTests
{
    // Fixture layout name → registry name and whether global average pooling gives the same configuration.
    public static TheoryData<string, string, bool> Layouts => new()
    {
        { "vit_base_patch16_224", "vit_base_patch16_224", false },
        { "deit3_small_patch16_224", "deit3_small_patch16_224", false },
        { "vit_small_patch14_reg4_dinov2", "vit_small_patch14_reg4_dinov2", false },
        { "vit_small_patch16_224_avg", "vit_small_patch16_224", true },
        { "lvvit_s", "lvvit_s", false },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void StateDictKeysAndShapesEqualTheReferenceLayout(string layout, string model, bool avgPool)
    {
        var reference = ZooReference.Root.GetProperty("layouts").GetProperty(layout);
        var entry = avgPool ? ModelRegistry.Get(model).With(c => c with { GlobalPool = GlobalPool.Avg }) : ModelRegistry.Get(model);
        using var m = new VisionTransformer((VitConfig)entry.Config, initWeights: false);
        using var scope = Scope.Enter();
        var ours = m.StateDict().Select(kv => (kv.Key, kv.Value.Shape)).ToList();
        var theirs = reference.GetProperty("keys").EnumerateArray()
            .Select(k => (Key: k[0].GetString()!, Shape: ZooReference.Shape(k[1]))).ToList();
        Assert.Equal(theirs.Select(k => k.Key), ours.Select(o => o.Key));
        for (var i = 0; i < ours.Count; i++)
            Assert.True(theirs[i].Shape.SequenceEqual(ours[i].Shape), $"{ours[i].Key}: {string.Join("x", ours[i].Shape)} vs reference {string.Join("x", theirs[i].Shape)}");
        var count = reference.GetProperty("param_count").GetInt64();
        Assert.Equal(count, m.ParameterCount());
        Assert.Equal(count, entry.Config.ParamCount());
    }

    // Published counts in millions, rounded to 0.01M (LV-ViT: TokenLabeling README) or 0.1M (DeiT paper / timm).
    [Theory]
    [InlineData("lvvit_t", 8.53, 0.01)]
    [InlineData("lvvit_s", 26.15, 0.01)]
    [InlineData("lvvit_s_384", 26.30, 0.01)]
    [InlineData("lvvit_m", 55.83, 0.01)]
    [InlineData("lvvit_m_384", 56.03, 0.01)]
    [InlineData("lvvit_m_448", 56.13, 0.01)]
    [InlineData("lvvit_l_448", 150.47, 0.01)]
    [InlineData("lvvit_l_512", 150.66, 0.01)]
    [InlineData("deit_tiny_patch16_224", 5.7, 0.1)]
    [InlineData("deit_small_patch16_224", 22.1, 0.1)]
    [InlineData("vit_base_patch16_224", 86.6, 0.1)]
    public void ParameterCountsEqualThePublishedOnes(string name, double millions, double rounding)
    {
        var count = ModelRegistry.Get(name).Config.ParamCount();
        Assert.True(Math.Abs(count / 1e6 - millions) <= rounding / 2 + 1e-9, $"{name}: {count:N0} parameters, published {millions}M");
    }

    [Fact]
    public void ExactTimmCounts()
    {
        Assert.Equal(5_717_416L, ModelRegistry.Get("deit_tiny_patch16_224").Config.ParamCount());
        Assert.Equal(22_050_664L, ModelRegistry.Get("deit_small_patch16_224").Config.ParamCount());
        Assert.Equal(86_567_656L, ModelRegistry.Get("vit_base_patch16_224").Config.ParamCount());
        Assert.Equal(26_151_824L, ModelRegistry.Get("lvvit_s").Config.ParamCount());
    }

    // Commonly cited GFLOPs (GMACs): DeiT-S 4.6, ViT-B/16 17.6 (DeiT paper / timm); LV-ViT from the PaddleViT port's table.
    [Theory]
    [InlineData("deit_small_patch16_224", 4.6)]
    [InlineData("vit_base_patch16_224", 17.6)]
    [InlineData("lvvit_s", 6.6)]
    [InlineData("lvvit_s_384", 22.2)]
    [InlineData("lvvit_l_448", 157.2)]
    public void GflopsAreWithinThreePercentOfTheCitedOnes(string name, double cited)
    {
        var g = ModelRegistry.Get(name).Summary().Gflops;
        Assert.True(Math.Abs(g / cited - 1) <= 0.03, $"{name}: {g:F2} GFLOPs vs cited {cited}");
    }

    [Fact]
    public void ConvStemFlopsAreCountedAsConvolutions()
    {
        var lv = LvVit.Small;
        var plainStem = lv with { EmbedLayer = EmbedLayer.Patch };
        // stem: 112² positions × (3·49·64 + 2·9·64·64) MACs; proj 196 × 64·8·8 × 384 instead of 196 × 3·16·16 × 384.
        var stemMacs = 112.0 * 112 * (3 * 49 * 64 + 2 * 9 * 64 * 64) + 196.0 * 64 * 64 * 384 - 196.0 * 3 * 256 * 384;
        Assert.Equal(stemMacs, lv.ForwardMatmulFlops() / 2 - plainStem.ForwardMatmulFlops() / 2, 3);
        Assert.Equal(112, lv.StemSize);
    }

    [Fact]
    public void AnalyticParameterCountsMatchTheBuiltModelForEveryRegisteredModel()
    {
        // Every registered option combination, shrunk (ViTs: depth 1, width 64; ResNets: one block per stage, width 8;
        // NFNets: stem 16, widths 16…48, groups of 8, keeping each entry's stage count) so that building all of them is quick.
        foreach (var entry in ModelRegistry.All)
        {
            var small = entry.With(entry.Config switch
            {
                VitConfig v => v with { Depth = 1, EmbedDim = 64, NumHeads = 2 },
                ResNetConfig r => r with { Layers = [1, 1, 1, 1], BaseWidth = 8 },
                NfNetConfig f => f with { Depths = [1, 2, 1, 1], Channels = [16, 32, 48, 48], StemChannels = 16, GroupSize = 8 },
                var other => other,
            });
            using var model = small.Create();
            Assert.True(small.Config.ParamCount() == model.ParameterCount(), $"{entry.Name}: analytic {small.Config.ParamCount()} vs built {model.ParameterCount()}");
        }
    }

    // Option combinations beyond the registered defaults; each new option that adds parameters belongs here.
    private static readonly Func<VitConfig, VitConfig>[] Combinations =
    [
        c => c with { ReturnDense = true, MixToken = true },
        c => c with { RegTokens = 2, NoEmbedClass = true },
        c => c with { RegTokens = 3 },
        c => c with { EmbedLayer = EmbedLayer.ConvStem, StemChannels = 16 },
        c => c with { InitValues = 1e-5, QkvBias = false },
        c => c with { GlobalPool = GlobalPool.Avg },
        c => c with { ClassToken = false, GlobalPool = GlobalPool.Avg },
        c => c with { NumClasses = 0 },
        c => c with { MlpRatio = 2.5, ImgSize = 56, DynamicImgSize = true },
        c => c with { Sta = new StructuredTokenAugmentationConfig(), Anf = new AdaptiveNoiseFilterConfig() },
        c => c with { Anf = new AdaptiveNoiseFilterConfig { KernelSize = 5, ConvAxis = AnfConvAxis.Grid2d, Gate = AnfGate.Token, AfterBlocks = [0, 2] } },
        c => c with { Anf = new AdaptiveNoiseFilterConfig { ConvAxis = AnfConvAxis.Channels } },
        c => c with { Specialization = new ClsSpecializationConfig() },
        c => c with { Specialization = new ClsSpecializationConfig { ProjBlocks = null, MlpBlocks = null }, InitValues = 1e-5, QkvBias = false },
        c => c with { Specialization = new ClsSpecializationConfig { ProjBlocks = null, MlpBlocks = null, LoraRank = 3, QkvBlocks = new BlockRange(0, 4) }, RegTokens = 2 },
        c => c with { Specialization = new ClsSpecializationConfig { LayerScales = false, RegistersOnClsPath = true }, RegTokens = 2, GlobalPool = GlobalPool.Avg },
    ];

    public static TheoryData<int> CombinationIndices => new(Enumerable.Range(0, Combinations.Length));

    [Theory]
    [MemberData(nameof(CombinationIndices))]
    public void AnalyticParameterCountsMatchTheBuiltModelForOptionCombinations(int index)
    {
        var entry = ModelRegistry.Get("vit_tiny_fm28").With(Combinations[index]);
        using var model = entry.Create();
        Assert.Equal(entry.Config.ParamCount(), model.ParameterCount());
    }

    [Fact]
    public void RegistryHasThePapersModels()
    {
        string[] required =
        [
            "deit_tiny_patch16_224", "deit_small_patch16_224", "deit_base_patch16_224", "deit_base_patch16_384",
            "vit_tiny_patch16_224", "vit_small_patch16_224", "vit_base_patch16_224", "vit_base_patch16_384",
            "vit_large_patch16_224", "vit_huge_patch14_224", "deit3_small_patch16_224", "vit_small_patch14_reg4_dinov2",
            "lvvit_t", "lvvit_s", "lvvit_s_384", "lvvit_m", "lvvit_m_384", "lvvit_m_448", "lvvit_l", "lvvit_l_448", "lvvit_l_512",
            "vit_tiny_fm28", "vit_small_fm28", "lvvit_tiny_fm28", "vit_tiny_scenes64",
        ];
        foreach (var name in required) Assert.True(ModelRegistry.Contains(name), $"{name} is not registered");
        foreach (var size in new[] { "tiny", "small", "base", "large", "huge" })
            foreach (var patch in new[] { 16, 14 })
                Assert.True(ModelRegistry.Contains($"vit_{size}_patch{patch}_224"), $"vit_{size}_patch{patch}_224 is not registered");
        Assert.Equal(ModelRegistry.All.Count, ModelRegistry.All.Select(e => e.Name).Distinct().Count());
        Assert.Equal(448, ModelRegistry.Get("lvvit_l_448").Summary().Resolution);
    }
}
