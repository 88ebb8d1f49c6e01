using System.Text.Json;
using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models;

/// <summary>A registered model: its name, configuration and how to build it.</summary>
/// <param name="Name">Registry name (timm's where timm has the model).</param>
/// <param name="Config">The default configuration.</param>
/// <param name="Factory">Builds the model from a (possibly overridden) configuration of the same type.</param>
/// <param name="Source">Where the name and configuration come from.</param>
public sealed record ModelEntry(string Name, IModelConfig Config, Func<IModelConfig, Device?, Module> Factory, string Source)
{
    /// <summary>Builds the model (initialised; seed with <see cref="Torch.Torch.ManualSeed"/> first).</summary>
    public Module Create(Device? device = null) => Factory(Config, device);

    /// <summary>
    /// This entry with another configuration of the same record type (the run config's <c>model.*</c> keys, bound by
    /// Reproduce.Training's config binder, or a C# <c>with</c> expression), validated so a bad combination is refused
    /// before anything is built.
    /// </summary>
    public ModelEntry With(IModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.GetType() != Config.GetType())
            throw new ArgumentException($"model '{Name}': its configuration is a {Config.GetType().Name}, not a {config.GetType().Name}");
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"model '{Name}': {e.Message}", e);
        }
        return this with { Config = config };
    }

    /// <summary>This entry with its <see cref="VitConfig"/> edited (<c>e.With(c =&gt; c with { Depth = 2 })</c>).</summary>
    public ModelEntry With(Func<VitConfig, VitConfig> edit)
    {
        ArgumentNullException.ThrowIfNull(edit);
        return Config is VitConfig vit ? With(edit(vit)) : throw new ArgumentException($"model '{Name}' is not a VisionTransformer");
    }

    /// <summary>Name, analytic parameter count, GFLOPs and default resolution.</summary>
    public ModelSummary Summary() => new(Name, Config.ParamCount(), Config.Gflops(), Config.ImgSize);
}

/// <summary>What <c>reproduce models</c> lists for a model.</summary>
/// <param name="Name">Registry name.</param>
/// <param name="Params">Trainable parameters.</param>
/// <param name="Gflops">Forward GFLOPs of one image (1 multiply-accumulate = 1 FLOP, as fvcore and the papers).</param>
/// <param name="Resolution">Default input side in pixels.</param>
public sealed record ModelSummary(string Name, long Params, double Gflops, int Resolution);

/// <summary>
/// Every model the three papers use: name → configuration → factory, parameter count and analytic forward
/// GFLOPs at the default resolution (<see cref="VitConfig.Gflops"/>: the matmuls and convolutions, 1 MAC =
/// 1 FLOP; norms, softmax, activations and element-wise ops not counted). Names are timm's where timm has the
/// model (<c>deit_small_patch16_224</c>, <c>vit_base_patch16_384</c>, <c>deit3_base_patch16_224</c>,
/// <c>vit_small_patch14_reg4_dinov2</c>), TokenLabeling's for LV-ViT (<c>lvvit_t/s/m/l</c>, with the published
/// resolutions as <c>_384/_448/_512</c>), and ours for shapes timm lacks and the CPU sizes of the quick profile.
/// Variants are options on a base model, not new names: an entry's record gives the defaults and
/// <see cref="ModelEntry.With(IModelConfig)"/> takes a changed copy (a run config's <c>model.drop_path_rate=0.1</c> or
/// <c>model.return_dense=true</c>, token labeling on any ViT).
/// <para>Quick-profile sizes (2 CPU cores): <c>vit_tiny_fm28</c> (D 96, depth 4, 3 heads; the main job's model,
/// 0.02 GFLOPs), <c>vit_small_fm28</c> (D 192, depth 6; bench's <c>vit192</c>, which trains at ≈ 86–90 img/s
/// at batch 128 here, bench/README.md) and <c>lvvit_tiny_fm28</c> (the LV-ViT recipe at D 96, depth 4: 32-channel
/// conv stem, MLP 3×, skip_lam 2, aux_head + MixToken) take Fashion-MNIST as it is (28×28, 1 channel, 10 classes,
/// patch 4 → a 7×7 grid, 49 patch tokens); <c>vit_tiny_scenes64</c> (D 96, depth 4, no classifier) is the
/// feature backbone for fashion-scenes (64×64 RGB, patch 8 → an 8×8 grid) under the dense heads;
/// <c>resnet_tiny_fm28</c> (<see cref="ResNetConfig.Quick"/>) is the Token Labeling annotator for Fashion-MNIST
/// (4×4 score maps) and <c>resnet_tiny_objects64</c> (<see cref="ResNetConfig.QuickObjects"/>, 3 channels at 64×64: 8×8
/// score maps, <c>vit_tiny_scenes64</c>'s token grid) the one for fashion-objects; <c>dm_nfnet_f0…f6</c>
/// (<see cref="NfNetConfig"/>, timm's names and keys) are NFNet-F, F6 the paper's annotator. The STA/ANF and [CLS]/patch variants are options on any ViT entry
/// (<c>model.sta={}</c>, <c>model.anf={}</c>, <c>model.specialization={}</c> in a run config), not new names.</para>
/// Adding a model is one line in the list below: <c>Vit(name, config, source)</c> for a
/// <see cref="VisionTransformer"/>, <c>Entry(name, config, factory, source)</c> for any other
/// <see cref="IModelConfig"/> record.
/// </summary>
public static class ModelRegistry
{
    private const string Timm = "timm";
    private const string TokenLabeling = "TokenLabeling (zihangJiang/TokenLabeling)";
    private const string Ours = "ours (timm-style name; timm has no such entry)";
    private const string Quick = "ours (quick profile, CPU)";
    private const string TorchvisionAndTimm = "torchvision (timm's resnet has the same layout)";

    private static readonly Lazy<IReadOnlyList<ModelEntry>> Entries = new(Build);

    private static VitConfig Size(string size, int patch, int img = 224) => size switch
    {
        "tiny" => new VitConfig { EmbedDim = 192, Depth = 12, NumHeads = 3, PatchSize = patch, ImgSize = img },
        "small" => new VitConfig { EmbedDim = 384, Depth = 12, NumHeads = 6, PatchSize = patch, ImgSize = img },
        "medium" => new VitConfig { EmbedDim = 512, Depth = 12, NumHeads = 8, PatchSize = patch, ImgSize = img },
        "base" => new VitConfig { EmbedDim = 768, Depth = 12, NumHeads = 12, PatchSize = patch, ImgSize = img },
        "large" => new VitConfig { EmbedDim = 1024, Depth = 24, NumHeads = 16, PatchSize = patch, ImgSize = img },
        "huge" => new VitConfig { EmbedDim = 1280, Depth = 32, NumHeads = 16, PatchSize = patch, ImgSize = img },
        _ => throw new ArgumentException($"ModelRegistry: unknown ViT size '{size}'"),
    };

    // DeiT-III (Touvron et al. 2022): layer scale 1e-6 and position embedding on the patches only.
    private static VitConfig Deit3(string size, int patch, int img) => Size(size, patch, img) with { NoEmbedClass = true, InitValues = 1e-6 };

    // DINOv2 in timm: patch 14 at 518, layer scale 1e-5, no classifier (timm's pretrained config has
    // num_classes 0); the register variants add 4 registers (no_embed_class).
    private static VitConfig Dinov2(string size, int regs) => Size(size, 14, 518) with
    {
        NumClasses = 0,
        InitValues = 1e-5,
        RegTokens = regs,
        NoEmbedClass = regs > 0,
    };

    private static ModelEntry Vit(string name, VitConfig config, string source) =>
        new(name, config, (c, d) => new VisionTransformer((VitConfig)c, d), source);

    private static ModelEntry Entry<TConfig>(string name, TConfig config, Func<TConfig, Device?, Module> factory, string source)
        where TConfig : IModelConfig =>
        new(name, config, (c, d) => factory((TConfig)c, d), source);

    private static List<ModelEntry> Build()
    {
        var fm28 = new VitConfig { ImgSize = 28, PatchSize = 4, InChans = 1, NumClasses = 10, EmbedDim = 96, Depth = 4, NumHeads = 3 };
        var list = new List<ModelEntry>
        {
            // ViT (Dosovitskiy et al. 2021) and DeiT (Touvron et al. 2021) share timm's VisionTransformer.
            Vit("vit_tiny_patch16_224", Size("tiny", 16), Timm),
            Vit("vit_tiny_patch16_384", Size("tiny", 16, 384), Timm),
            Vit("vit_small_patch16_224", Size("small", 16), Timm),
            Vit("vit_small_patch16_384", Size("small", 16, 384), Timm),
            Vit("vit_base_patch16_224", Size("base", 16), Timm),
            Vit("vit_base_patch16_384", Size("base", 16, 384), Timm),
            Vit("vit_large_patch16_224", Size("large", 16), Timm),
            Vit("vit_large_patch16_384", Size("large", 16, 384), Timm),
            Vit("vit_huge_patch16_224", Size("huge", 16), Ours),
            Vit("vit_tiny_patch14_224", Size("tiny", 14), Ours),
            Vit("vit_small_patch14_224", Size("small", 14), Ours),
            Vit("vit_base_patch14_224", Size("base", 14), Ours),
            Vit("vit_large_patch14_224", Size("large", 14), Timm),
            Vit("vit_huge_patch14_224", Size("huge", 14), Timm),
            Vit("vit_small_patch14_dinov2", Dinov2("small", 0), Timm),
            Vit("vit_base_patch14_dinov2", Dinov2("base", 0), Timm),
            Vit("vit_large_patch14_dinov2", Dinov2("large", 0), Timm),
            Vit("vit_small_patch14_reg4_dinov2", Dinov2("small", 4), Timm),
            Vit("vit_base_patch14_reg4_dinov2", Dinov2("base", 4), Timm),
            Vit("vit_large_patch14_reg4_dinov2", Dinov2("large", 4), Timm),
            Vit("deit_tiny_patch16_224", Size("tiny", 16), Timm),
            Vit("deit_small_patch16_224", Size("small", 16), Timm),
            Vit("deit_base_patch16_224", Size("base", 16), Timm),
            Vit("deit_base_patch16_384", Size("base", 16, 384), Timm),
            Vit("deit3_small_patch16_224", Deit3("small", 16, 224), Timm),
            Vit("deit3_small_patch16_384", Deit3("small", 16, 384), Timm),
            Vit("deit3_medium_patch16_224", Deit3("medium", 16, 224), Timm),
            Vit("deit3_base_patch16_224", Deit3("base", 16, 224), Timm),
            Vit("deit3_base_patch16_384", Deit3("base", 16, 384), Timm),
            Vit("deit3_large_patch16_224", Deit3("large", 16, 224), Timm),
            Vit("deit3_large_patch16_384", Deit3("large", 16, 384), Timm),
            Vit("deit3_huge_patch14_224", Deit3("huge", 14, 224), Timm),

            // LV-ViT (Jiang et al. 2021) at the resolutions the README publishes (lvvit_l: TokenLabeling's default 224).
            Vit("lvvit_t", LvVit.Tiny, TokenLabeling),
            Vit("lvvit_s", LvVit.Small, TokenLabeling),
            Vit("lvvit_s_384", LvVit.Small with { ImgSize = 384 }, TokenLabeling),
            Vit("lvvit_m", LvVit.Medium, TokenLabeling),
            Vit("lvvit_m_384", LvVit.Medium with { ImgSize = 384 }, TokenLabeling),
            Vit("lvvit_m_448", LvVit.Medium with { ImgSize = 448 }, TokenLabeling),
            Vit("lvvit_l", LvVit.Large, TokenLabeling),
            Vit("lvvit_l_448", LvVit.Large with { ImgSize = 448 }, TokenLabeling),
            Vit("lvvit_l_512", LvVit.Large with { ImgSize = 512 }, TokenLabeling),

            // Quick profile (CPU): Fashion-MNIST as it is, and the fashion-scenes backbone for the dense heads.
            Vit("vit_tiny_fm28", fm28, Quick),
            Vit("vit_small_fm28", fm28 with { EmbedDim = 192, Depth = 6, NumHeads = 3 }, Quick),
            Vit("lvvit_tiny_fm28", LvVit.Small with
            {
                ImgSize = 28, PatchSize = 4, InChans = 1, NumClasses = 10, EmbedDim = 96, Depth = 4, NumHeads = 3, StemChannels = 32,
            }, Quick),
            Vit("vit_tiny_scenes64", fm28 with { ImgSize = 64, PatchSize = 8, InChans = 3, NumClasses = 0 }, Quick),

            // Token Labeling's annotator (the paper used NFNet-F6): a fully convolutional ResNet with dense score maps.
            Entry("resnet18", ResNetConfig.ResNet18, (c, d) => new ResNet(c, d), TorchvisionAndTimm),
            Entry("resnet50", ResNetConfig.ResNet50, (c, d) => new ResNet(c, d), TorchvisionAndTimm),
            Entry("resnet_tiny_fm28", ResNetConfig.Quick, (c, d) => new ResNet(c, d), Quick),
            Entry("resnet_tiny_objects64", ResNetConfig.QuickObjects, (c, d) => new ResNet(c, d), Quick),

            // NFNet-F0…F6 (Brock et al. 2021) as timm's dm_nfnet_f* (DeepMind's weights); F6 is the paper's annotator.
            Entry("dm_nfnet_f0", NfNetConfig.F(0), (c, d) => new NfNet(c, d), Timm),
            Entry("dm_nfnet_f1", NfNetConfig.F(1), (c, d) => new NfNet(c, d), Timm),
            Entry("dm_nfnet_f2", NfNetConfig.F(2), (c, d) => new NfNet(c, d), Timm),
            Entry("dm_nfnet_f3", NfNetConfig.F(3), (c, d) => new NfNet(c, d), Timm),
            Entry("dm_nfnet_f4", NfNetConfig.F(4), (c, d) => new NfNet(c, d), Timm),
            Entry("dm_nfnet_f5", NfNetConfig.F(5), (c, d) => new NfNet(c, d), Timm),
            Entry("dm_nfnet_f6", NfNetConfig.F(6), (c, d) => new NfNet(c, d), Timm),
        };
        var duplicate = list.GroupBy(e => e.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"ModelRegistry: '{duplicate.Key}' is registered twice");
        foreach (var e in list) e.Config.Validate();
        return list;
    }

    /// <summary>Every registered model, in listing order.</summary>
    public static IReadOnlyList<ModelEntry> All => Entries.Value;

    /// <summary>Whether <paramref name="name"/> is registered.</summary>
    public static bool Contains(string name) => All.Any(e => e.Name == name);

    /// <summary>The entry called <paramref name="name"/>; an unknown name throws, listing the registered ones.</summary>
    public static ModelEntry Get(string name) =>
        All.FirstOrDefault(e => e.Name == name)
        ?? throw new ArgumentException($"unknown model '{name}'; registered models: {string.Join(", ", All.Select(e => e.Name))}");

    /// <summary>Builds <paramref name="name"/> with its registered configuration.</summary>
    public static Module Create(string name, Device? device = null) => Get(name).Create(device);

    /// <summary>Builds a registered <see cref="VisionTransformer"/> (LV-ViT included), its configuration optionally edited.</summary>
    public static VisionTransformer CreateVit(string name, Func<VitConfig, VitConfig>? edit = null, Device? device = null)
    {
        var entry = Get(name);
        if (entry.Config is not VitConfig config) throw new ArgumentException($"model '{name}' is not a VisionTransformer");
        return new VisionTransformer((VitConfig)(edit is null ? entry : entry.With(edit)).Config, device);
    }

    /// <summary>
    /// The JSON array <c>reproduce models --json</c> prints: one object per model with <c>"name"</c> (string),
    /// <c>"params"</c> (integer), <c>"gflops"</c> (number, rounded to 4 decimals) and <c>"resolution"</c> (integer).
    /// </summary>
    public static string SummariesJson(IEnumerable<ModelSummary> summaries)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var m in summaries)
            {
                w.WriteStartObject();
                w.WriteString("name", m.Name);
                w.WriteNumber("params", m.Params);
                w.WriteNumber("gflops", Math.Round(m.Gflops, 4));
                w.WriteNumber("resolution", m.Resolution);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
