using Reproduce.Torch.IO;
using Reproduce.Training.Annotation;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Annotation;

/// <summary>
/// The annotate path for <c>dm_nfnet_f6</c> (the paper's teacher, 576 px → 18×18 maps), run with a shrunk NFNet of the
/// same structure: the full model's 438 M parameters are too many for a CPU test.
/// </summary>
public class NfNetAnnotatorTests
{
    private static readonly NfNetConfig Tiny = new()
    {
        Depths = [1, 2, 1, 1], Channels = [16, 32, 48, 48], StemChannels = 8, GroupSize = 8, NumClasses = 7,
    };

    [Fact]
    public void F6EntryTakesTheClassCountOfItsWeightsAndAnnotatesAt576As18x18Maps()
    {
        using var dir = new TempDir();
        using var scope = Scope.Enter();
        Torch.Torch.ManualSeed(11);
        using var model = new NfNet(Tiny);
        model.Eval();
        SafeTensors.SaveModule(dir["tiny.safetensors"], model);

        var entry = Annotator.WithClassesOf(ModelRegistry.Get("dm_nfnet_f6"), dir["tiny.safetensors"]);
        var config = Assert.IsType<NfNetConfig>(entry.Config);
        Assert.Equal(7, config.NumClasses); // from head.fc.weight, as for a ResNet's fc.weight
        Assert.Equal([7, 14, 42, 21], config.Depths);
        Assert.True(Annotator.YieldsDenseScores(model));

        using var gen = new Generator(2);
        var image = Torch.Torch.Randint(0, 256, [3, 600, 700], gen).To(ScalarType.UInt8);
        var transform = Annotator.Transform(entry, 576);
        Assert.Equal((576, 1.0, InterpolationMode.Bicubic), (transform.Size, transform.CropPct, transform.Interpolation)); // generate_label.py
        var batch = transform.Apply(image).Unsqueeze(0);
        Assert.Equal([1, 3, 576, 576], batch.Shape);
        var scores = Annotator.DenseScores(model, batch);
        Assert.Equal([1, 7, 18, 18], scores.Shape);
        Assert.Equal(config.FeatureSize(576), Tiny.FeatureSize(576));
        using var noGrad = Torch.Torch.NoGrad();
        Assert.Equal(0.0, scores.Sub(model.ForwardDense(batch)).Abs().Max().ToDouble());
    }
}
