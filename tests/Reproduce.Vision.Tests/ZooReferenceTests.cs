using Reproduce.Vision.Models.Layers;
using Reproduce.Vision.Tokens;

namespace Reproduce.Vision.Tests;

/// <summary>
/// Forward outputs against the plain-PyTorch re-statements in tests/fixtures/gen_zoo.py (full-size ViT-S/16 and
/// LV-ViT-S, plus small cases for register tokens, no_embed_class and dynamic image size). Replays seeded
/// weights through the default generator, so serial.
/// </summary>
[Collection(nameof(SerialTests))]
public class ZooReferenceTests
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> VitCases => new(ZooReference.VitCaseNames);

    [Theory]
    [MemberData(nameof(VitCases))]
    public void VitForwardMatchesPyTorch(string name)
    {
        var c = ZooReference.VitCase(name);
        var config = ZooReference.VitConfigOf(c.GetProperty("config"));
        using var model = new VisionTransformer(config, initWeights: false);
        ZooReference.FillSeeded(model, c.GetProperty("seed").GetUInt64(), c.GetProperty("checks"));
        using var scope = Scope.Enter();
        var x = Torch.Torch.Randn(ZooReference.Shape(c.GetProperty("input_shape")));
        model.Eval();
        using var _ = Torch.Torch.NoGrad();
        var features = model.ForwardFeatures(x);
        var prefix = features.Slice(1, 0, config.NumPrefixTokens + 1);
        Assertions.Close(TensorData.Parse(c.GetProperty("prefix_features")), prefix, Tolerance, $"{name} prefix + first patch features");
        Assertions.Close(TensorData.Parse(c.GetProperty("logits")), model.ForwardHead(features), Tolerance, $"{name} logits");
    }

    [Fact]
    public void LvVitSmallMatchesTokenLabelingInEvalAndInTheMixTokenTrainingForward()
    {
        var c = ZooReference.Root.GetProperty("lvvit");
        var config = LvVit.Small;
        var cfg = c.GetProperty("config");
        Assert.Equal(cfg.GetProperty("embed_dim").GetInt32(), config.EmbedDim);
        Assert.Equal(cfg.GetProperty("depth").GetInt32(), config.Depth);
        Assert.Equal(cfg.GetProperty("skip_lam").GetDouble(), config.SkipLam);
        Assert.Equal(cfg.GetProperty("stem_channels").GetInt32(), config.StemChannels);
        using var model = new VisionTransformer(config, initWeights: false);
        ZooReference.FillSeeded(model, c.GetProperty("seed").GetUInt64(), c.GetProperty("checks"));
        using var scope = Scope.Enter();
        var x = Torch.Torch.Randn(ZooReference.Shape(c.GetProperty("input_shape")));
        using var _ = Torch.Torch.NoGrad();

        model.Eval();
        Assertions.Close(TensorData.Parse(c.GetProperty("eval_prediction")), model.Forward(x), Tolerance, "LV-ViT-S prediction (cls + 0.5·max aux)");

        // Training mode: BatchNorm on batch statistics, MixToken with the fixture's box (no dropout or drop path configured).
        model.Train();
        var b = ZooReference.Shape(c.GetProperty("box")).Select(v => (int)v).ToArray();
        var box = new MixTokenBox(b[0], b[1], b[2], b[3], 14, 14);
        var output = model.ForwardTokenLabeling(x, box);
        Assert.Same(box, output.Box);
        Assertions.Close(TensorData.Parse(c.GetProperty("train_cls")), output.ClsLogits, Tolerance, "LV-ViT-S MixToken class logits");
        Assertions.Close(TensorData.Parse(c.GetProperty("train_aux_first16")), output.AuxLogits.Slice(2, 0, 16), Tolerance,
            "LV-ViT-S swapped-back aux logits (first 16 classes, every token)");
    }

    [Fact]
    public void PosEmbedResamplingMatchesTimm()
    {
        var r = ZooReference.Root.GetProperty("resample");
        using var scope = Scope.Enter();
        var pe = TensorData.Parse(r.GetProperty("input")).ToTensor();
        Assertions.Close(TensorData.Parse(r.GetProperty("antialias_24x24")), PosEmbedResampling.ResampleAbsPosEmbed(pe, (24, 24)), 1e-6, "bicubic+antialias 14→24");
        Assertions.Close(TensorData.Parse(r.GetProperty("plain_24x24")), PosEmbedResampling.ResampleAbsPosEmbed(pe, (24, 24), antialias: false), 1e-6, "bicubic 14→24 (TokenLabeling's resize)");
        Assertions.Close(TensorData.Parse(r.GetProperty("antialias_10x7")), PosEmbedResampling.ResampleAbsPosEmbed(pe, (10, 7)), 1e-6, "bicubic+antialias 14→10x7");
        // timm returns the embedding untouched when the square grid already fits.
        Assert.True(PosEmbedResampling.ResampleAbsPosEmbed(pe, (14, 14)).Equal(pe));
        var ex = Assert.Throws<ArgumentException>(() => PosEmbedResampling.ResampleAbsPosEmbed(pe, (4, 4), (10, 10)));
        Assert.Contains("10x10", ex.Message);
    }
}
