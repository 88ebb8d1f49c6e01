using System.Text.Json;
using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Training.Checkpoints.Released;
using Reproduce.Training.Probes;
using Reproduce.Vision.Models;
using Reproduce.Vision.Models.Heads;

namespace Reproduce.Training.Tests.Checkpoints;

/// <summary>
/// Released dense heads and the LV-ViT release layout (tests/fixtures/released_heads/make_heads.py: the official wrappers
/// and key sets, widths shrunk): DINOv2's ADE20K linear / ms heads and NYUv2 linear / linear4 depth heads on a DINOv2 hub
/// backbone, Token Labeling's UperNet segmentor (backbone and heads from one mmseg checkpoint) and an LV-ViT-S ImageNet
/// file give the outputs of the PyTorch transcription of the official code within 1e-4.
/// </summary>
[Collection(nameof(SerialTests))]
public class ReleasedHeadsTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "released_heads", name);

    // Parsed once: the reference file is ~0.6 MB.
    private static readonly Lazy<JsonDocument> Doc = new(() => JsonDocument.Parse(File.ReadAllText(Fixture("reference.json"))));

    private static JsonElement Reference(JsonDocument doc, string file) => doc.RootElement.GetProperty(file);

    private static float[] Floats(JsonElement e, string key) => e.GetProperty(key).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    private static long[] Shape(JsonElement e, string key) => e.GetProperty(key).EnumerateArray().Select(v => v.GetInt64()).ToArray();

    private static int[] Blocks(JsonElement e) => e.GetProperty("blocks").EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static VisionTransformer Dino()
    {
        var vit = (VisionTransformer)ModelRegistry.Get("vit_small_patch14_dinov2").With(c => c with { EmbedDim = 8, NumHeads = 2, ImgSize = 42 }).Create();
        BackboneWeights.Load(vit, Fixture("dinov2_vits14.pth"), ProbeRun.DenseUnused);
        vit.Eval();
        return vit;
    }

    private static void AssertClose(JsonElement c, Tensor got)
    {
        Assert.Equal(Shape(c, "output_shape"), got.Shape);
        var want = Floats(c, "output");
        var values = got.ToArray<float>();
        var worst = want.Select((w, i) => Math.Abs(values[i] - w)).Max();
        Assert.True(worst <= 1e-4, $"largest difference from PyTorch {worst} (of outputs up to {want.Max(Math.Abs)})");
    }

    [Theory]
    [InlineData("dinov2_vits14_ade20k_linear_head.pth")]
    [InlineData("dinov2_vits14_ade20k_ms_head.pth")]
    public void Dinov2SegmentationHeadGivesPyTorchLogits(string file)
    {
        var doc = Doc.Value;
        var c = Reference(doc, file);
        using var scope = Scope.Enter();
        using var vit = Dino();
        var blocks = Blocks(c);
        var ignored = new List<string>();
        using var head = HeadWeights.Segmentation(Fixture(file), upernet: false, 8, blocks.Length, Device.Cpu, ignored);
        Assert.Equal(150, ((LinearSegmentationHead)head).NumClasses);
        Assert.Equal(["entry 'meta'", "entry 'optimizer'"], ignored);
        head.Eval();
        var x = Tensor.From(Floats(doc.RootElement, "dino_input")).Reshape(Shape(doc.RootElement, "dino_input_shape"));
        using var noGrad = Torch.Torch.NoGrad();
        AssertClose(c, head.Forward(vit.GetIntermediateLayers(x, blocks), 7, 9));
    }

    [Theory]
    [InlineData("dinov2_vits14_nyu_linear_head.pth")]
    [InlineData("dinov2_vits14_nyu_linear4_head.pth")]
    public void Dinov2DepthHeadGivesPyTorchDepth(string file)
    {
        var doc = Doc.Value;
        var c = Reference(doc, file);
        using var scope = Scope.Enter();
        using var vit = Dino();
        var blocks = Blocks(c);
        Assert.Equal(blocks, blocks.Length == 1 ? [11] : ProbeLayerIndices.Depth(ProbeLayers.Lin4, 12));
        using var head = HeadWeights.Depth(Fixture(file), 8, blocks.Length, 1e-3, 10, Device.Cpu, []);
        Assert.Equal(256, head.NumBins);
        head.Eval();
        var x = Tensor.From(Floats(doc.RootElement, "dino_input")).Reshape(Shape(doc.RootElement, "dino_input_shape"));
        using var noGrad = Torch.Torch.NoGrad();
        AssertClose(c, head.Predict(vit.GetIntermediateLayers(x, blocks), 7, 9));
    }

    [Fact]
    public void TokenLabelingUperNetCheckpointGivesPyTorchLogits()
    {
        const string file = "upernet_lvvit_s.pth";
        var doc = Doc.Value;
        var c = Reference(doc, file);
        using var scope = Scope.Enter();
        // The segmentation backbone's LayerNorms use eps 1e-6 (seg/mmseg/models/backbones/vit.py), the classifier's 1e-5.
        using var vit = (VisionTransformer)ModelRegistry.Get("lvvit_s").With(m => m with { EmbedDim = 8, NumHeads = 2, StemChannels = 8, ImgSize = 64, NormEps = 1e-6 }).Create();
        var extra = BackboneWeights.Load(vit, Fixture(file), ProbeRun.DenseUnused);
        Assert.All(extra, k => Assert.StartsWith("side_layer", k, StringComparison.Ordinal));
        vit.Eval();
        var ignored = new List<string>();
        using var head = (UperNetHead)HeadWeights.Segmentation(Fixture(file), upernet: true, 8, 4, Device.Cpu, ignored);
        Assert.Equal((6, 10, 4), (head.Options.Channels, head.Options.NeckChannels, head.Options.AuxChannels));
        Assert.Contains(ignored, i => i.Contains("backbone key(s)", StringComparison.Ordinal));
        head.Eval();
        var x = Tensor.From(Floats(c, "input")).Reshape(Shape(c, "input_shape"));
        using var noGrad = Torch.Torch.NoGrad();
        AssertClose(c, head.Forward(vit.GetIntermediateLayers(x, Blocks(c)), 7, 9));
    }

    [Fact]
    public void TokenLabelingImageNetReleaseGivesPyTorchLogits()
    {
        const string file = "lvvit_s-26M-224-83.3.pth.tar";
        var doc = Doc.Value;
        var c = Reference(doc, file);
        using var scope = Scope.Enter();
        using var model = ModelRegistry.Get("lvvit_s").With(m => m with { EmbedDim = 8, NumHeads = 2, StemChannels = 8, ImgSize = 32, NumClasses = 5 }).Create();
        Assert.Empty(ModelWeights.LoadStrict(model, Fixture(file)));
        model.Eval();
        var x = Tensor.From(Floats(c, "input")).Reshape(Shape(c, "input_shape"));
        using var noGrad = Torch.Torch.NoGrad();
        AssertClose(c, ((Module<Tensor, Tensor>)model).Forward(x));
    }

    [Fact]
    public void AHeadForOtherBlocksOrAnotherTaskIsAClearError()
    {
        using var scope = Scope.Enter();
        var e = Assert.Throws<InvalidDataException>(() => HeadWeights.Depth(Fixture("dinov2_vits14_nyu_linear4_head.pth"), 8, 1, 1e-3, 10, Device.Cpu, []));
        Assert.Contains("dinov2_vits14_nyu_linear4_head.pth", e.Message, StringComparison.Ordinal);
        Assert.Contains("set probe.layers to 4 blocks", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<InvalidDataException>(() => HeadWeights.Segmentation(Fixture("dinov2_vits14_nyu_linear_head.pth"), false, 8, 1, Device.Cpu, []));
        Assert.Contains("has no key 'decode_head.conv_seg.weight'", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<InvalidDataException>(() => HeadWeights.Segmentation(Fixture("dinov2_vits14_ade20k_linear_head.pth"), false, 16, 1, Device.Cpu, []));
        Assert.Contains("another backbone width", e.Message, StringComparison.Ordinal);
    }
}
