using System.Text.Json;
using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Training.Checkpoints.Released;
using Reproduce.Training.Probes;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Checkpoints;

/// <summary>
/// Released checkpoint layouts (tests/fixtures/released_vit/make_released.py: the official wrappers and key names at the
/// real depth, width 8) load through <see cref="ModelWeights"/> into the registered models, and our logits equal the
/// PyTorch forward of the official model code on the same file within 1e-4.
/// </summary>
[Collection(nameof(SerialTests))]
public class ReleasedWeightsTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "released_vit", name);

    private static Module Tiny(string name, Func<VitConfig, VitConfig> shrink) => ModelRegistry.Get(name).With(shrink).Create();

    private static void AssertLogits(Module model, string file)
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(Fixture("reference.json")));
        var c = reference.RootElement.GetProperty(file);
        float[] Floats(string key) => c.GetProperty(key).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        long[] Shape(string key) => c.GetProperty(key).EnumerateArray().Select(v => v.GetInt64()).ToArray();
        using var scope = Scope.Enter();
        model.Eval();
        var x = Tensor.From(Floats("input")).Reshape(Shape("input_shape"));
        Tensor y;
        using (Torch.Torch.NoGrad()) y = ((Module<Tensor, Tensor>)model).Forward(x);
        Assert.Equal(Shape("logits_shape"), y.Shape);
        var got = y.ToArray<float>();
        var want = Floats("logits");
        for (var i = 0; i < want.Length; i++) Assert.True(Math.Abs(got[i] - want[i]) <= 1e-4, $"logit {i}: {got[i]} vs PyTorch {want[i]}");
    }

    [Fact]
    public void DeitIIITrainingCheckpointGivesPyTorchLogits()
    {
        using var model = Tiny("deit3_small_patch16_224", c => c with { EmbedDim = 8, NumHeads = 2, ImgSize = 32, PatchSize = 8, NumClasses = 5 });
        var ignored = ModelWeights.LoadStrict(model, Fixture("deit3_small.pth"));
        Assert.Equal(["entry 'optimizer'", "entry 'lr_scheduler'", "entry 'epoch'", "entry 'scaler'", "entry 'args'"], ignored);
        AssertLogits(model, "deit3_small.pth");
    }

    [Fact]
    public void Dinov2HubBackboneWithRegistersGivesPyTorchLogits()
    {
        using var model = Tiny("vit_small_patch14_reg4_dinov2", c => c with { EmbedDim = 8, NumHeads = 2, ImgSize = 28 });
        var ignored = ModelWeights.LoadStrict(model, Fixture("dinov2_vits14_reg4.pth"));
        Assert.Single(ignored, i => i.StartsWith("key 'mask_token'", StringComparison.Ordinal));
        AssertLogits(model, "dinov2_vits14_reg4.pth");
    }

    [Fact]
    public void Dinov2TeacherBackboneLoadsForProbesAndListsItsHeads()
    {
        using var model = Tiny("vit_small_patch14_dinov2", c => c with { EmbedDim = 8, NumHeads = 2, ImgSize = 28 });
        BackboneWeights.Load(model, Fixture("dinov2_teacher.pth"));
        AssertLogits(model, "dinov2_teacher.pth");
        using var scope = Scope.Enter();
        var content = ModelWeights.Read(model, Fixture("dinov2_teacher.pth"));
        Assert.Equal("teacher", content.Entry);
        Assert.Contains("key 'dino_head.mlp.0.weight' (not part of the backbone)", content.Ignored);
    }

    [Fact]
    public void TokenLabelingCheckpointPrefersEmaUnlessAnEntryIsNamed()
    {
        using var scope = Scope.Enter();
        var ema = WeightsFile.Read(Fixture("lvvit_module.pth"));
        Assert.Equal("state_dict_ema", ema.Entry);
        Assert.Equal(["cls_token", "patch_embed.conv1.weight"], ema.State.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(1.0, ema.State["cls_token"].Sum().ToDouble() / 8);
        var plain = WeightsFile.Read(Fixture("lvvit_module.pth"), "state_dict");
        Assert.Equal(0.0, plain.State["cls_token"].Sum().ToDouble());
        var inPath = WeightsFile.Read(Fixture("lvvit_module.pth") + "#state_dict");
        Assert.Equal("state_dict", inPath.Entry);
        Assert.Equal(0.0, inPath.State["cls_token"].Sum().ToDouble());
        Assert.True(WeightsFile.Exists(Fixture("lvvit_module.pth") + "#state_dict"));
        var e = Assert.Throws<InvalidDataException>(() => WeightsFile.Read(Fixture("lvvit_module.pth"), "model"));
        Assert.Contains("no entry 'model'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWrongModelNamesTheFileTheKeyAndBothShapes()
    {
        using var model = Tiny("vit_small_patch14_dinov2", c => c with { EmbedDim = 8, NumHeads = 2, ImgSize = 28 });
        var e = Assert.Throws<InvalidDataException>(() => ModelWeights.LoadStrict(model, Fixture("deit3_small.pth")));
        Assert.Contains("deit3_small.pth", e.Message, StringComparison.Ordinal);
        Assert.Contains("key 'patch_embed.proj.weight': the file has shape [8,3,8,8], the model [8,3,14,14]", e.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected key 'head.weight'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APickleWithoutTensorsIsNotAStateDict()
    {
        using var model = Tiny("vit_small_patch14_dinov2", c => c with { EmbedDim = 8, NumHeads = 2, ImgSize = 28 });
        var e = Assert.Throws<InvalidDataException>(() => ModelWeights.LoadStrict(model, Fixture("not_a_state_dict.pth")));
        Assert.Contains("not_a_state_dict.pth", e.Message, StringComparison.Ordinal);
        Assert.Contains("holds no tensors", e.Message, StringComparison.Ordinal);
        Assert.Contains("object argparse.Namespace", e.Message, StringComparison.Ordinal);
    }
}
