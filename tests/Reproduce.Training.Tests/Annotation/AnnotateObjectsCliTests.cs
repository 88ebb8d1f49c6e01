using Reproduce.Torch.IO;
using Reproduce.Training.Annotation;
using Reproduce.Training.Config;
using Reproduce.Training.Train;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Annotation;

/// <summary>
/// <c>reproduce annotate --data fashion-objects</c>: the 64×64 RGB annotator's 8×8 maps (vit_tiny_scenes64's token grid),
/// keyed and rendered so that store entry <c>split/i</c> is the score map of the very image the trainer reads as sample i.
/// </summary>
[Collection(nameof(SerialTests))]
public class AnnotateObjectsCliTests
{
    private const string Teacher = "resnet_tiny_objects64";

    [Fact]
    public void StoreHoldsTheTeachersScoresOfTheTrainersImagesOnAnEightByEightGrid()
    {
        using var dir = new TempDir();
        using var scope = Scope.Enter();
        Torch.Torch.ManualSeed(11);
        var entry = ModelRegistry.Get(Teacher);
        using var model = entry.Create();
        model.Eval();
        SafeTensors.SaveModule(dir["teacher.safetensors"], model);

        var r = CliRunner.Run("annotate", "--model", Teacher, "--weights", dir["teacher.safetensors"], "--data", "fashion-objects",
            "--split", "test", "--limit", "5", "--batch", "2", "--resolution", "64", "--topk", "3", "--out", dir["labels.tls"]);

        Assert.True(r.ExitCode == 0, r.Stderr);
        using var store = TokenLabelStore.Open(dir["labels.tls"]);
        Assert.Equal(5, store.Count);
        Assert.Equal(new TokenLabelStoreFormat(3, 8, 8, 10), store.Format);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => TokenLabelTargets.Key("test", i)), store.Keys);

        // The trainer's own batch of the same samples (fashion-objects, dataset seed fixed, normalised at 64×64).
        var config = RunConfig.Load((string?)null, "data.dataset=fashion-objects", $"model.name={Teacher}");
        var data = ClassificationData.Open(config, "test", 5);
        var (images, _) = data.Batch(new[] { 0, 1, 2, 3, 4 });
        var (values, indices) = Annotator.DenseScores(model, images).TopK(3, dim: 1); // [5, 3, 8, 8]
        for (var i = 0; i < 5; i++)
        {
            var map = store.Read(TokenLabelTargets.Key("test", i));
            Assert.Equal([3L, 8, 8], map.Values.Shape);
            Assert.Equal(indices.Select(0, i).To(ScalarType.Int64).ToArray<long>(), map.Indices.To(ScalarType.Int64).ToArray<long>());
            var want = values.Select(0, i).Contiguous().ToArray<float>();
            var got = map.Values.To(ScalarType.Float32).ToArray<float>();
            for (var j = 0; j < want.Length; j++) Assert.Equal(want[j], got[j], 2e-3f + 1e-3f * Math.Abs(want[j]));
        }
    }

    [Fact]
    public void UnknownDatasetListsTheValidOnesAndWritesNoStore()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["w.safetensors"], "");
        var r = CliRunner.Run("annotate", "--model", Teacher, "--weights", dir["w.safetensors"], "--data", "fashion-scenes",
            "--resolution", "64", "--topk", "3", "--out", dir["labels.tls"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("unknown dataset 'fashion-scenes'", r.Stderr);
        Assert.Contains("valid: fashion-mnist, fashion-objects, imagenet", r.Stderr);
        Assert.False(File.Exists(dir["labels.tls"]));
    }

    [Fact]
    public void GreyAnnotatorOnFashionObjectsIsAnError()
    {
        using var dir = new TempDir();
        using var scope = Scope.Enter();
        using (var model = ModelRegistry.Create("resnet_tiny_fm28")) SafeTensors.SaveModule(dir["fm28.safetensors"], model);
        var r = CliRunner.Run("annotate", "--model", "resnet_tiny_fm28", "--weights", dir["fm28.safetensors"], "--data", "fashion-objects",
            "--limit", "2", "--resolution", "64", "--topk", "3", "--out", dir["labels.tls"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("fashion-objects images are RGB", r.Stderr);
        Assert.Contains("resnet_tiny_objects64", r.Stderr);
        Assert.False(File.Exists(dir["labels.tls"]));
    }
}
