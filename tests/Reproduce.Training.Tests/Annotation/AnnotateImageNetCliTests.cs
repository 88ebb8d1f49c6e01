using Reproduce.Torch.IO;
using Reproduce.Training.Annotation;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Annotation;

/// <summary><c>reproduce annotate --data imagenet</c> on a two-image ImageNet-layout folder with a resnet18 teacher.</summary>
[Collection(nameof(SerialTests))]
public class AnnotateImageNetCliTests
{
    [Fact]
    public void KeysAreRelativePathsWithoutExtensionAndScoresMatchTheTeacher()
    {
        using var dir = new TempDir();
        using var scope = Scope.Enter();
        using var gen = new Generator(9);
        var images = new Dictionary<string, Tensor>
        {
            ["n01440764/img_a"] = Torch.Torch.Randint(0, 256, [3, 40, 50], gen).To(ScalarType.UInt8),
            ["n01443537/img_b"] = Torch.Torch.Randint(0, 256, [3, 70, 64], gen).To(ScalarType.UInt8),
        };
        foreach (var (key, img) in images) ImageCodec.SavePng(Path.Combine(dir["imagenet/train"], key + ".png"), img);
        Torch.Torch.ManualSeed(3);
        var entry = ModelRegistry.Get("resnet18");
        using var model = entry.Create();
        model.Eval();
        SafeTensors.SaveModule(dir["r18.safetensors"], model);

        var r = CliRunner.Run("annotate", "--model", "resnet18", "--weights", dir["r18.safetensors"], "--data", "imagenet",
            "--root", dir["imagenet"], "--resolution", "64", "--topk", "5", "--out", dir["labels.tls"]);

        Assert.True(r.ExitCode == 0, r.Stderr);
        using var store = TokenLabelStore.Open(dir["labels.tls"]);
        Assert.Equal(new TokenLabelStoreFormat(5, 2, 2, 1000), store.Format); // stride 32: 64 → 2×2
        Assert.Equal(images.Keys.Order(StringComparer.Ordinal), store.Keys);
        var transform = Annotator.Transform(entry, 64);
        foreach (var (key, img) in images)
        {
            var scores = Annotator.DenseScores(model, transform.Apply(img).Unsqueeze(0)).Squeeze(0);
            var (values, indices) = scores.TopK(5, dim: 0);
            var map = store.Read(key);
            Assert.Equal(indices.To(ScalarType.Int64).ToArray<long>(), map.Indices.To(ScalarType.Int64).ToArray<long>());
            var want = values.ToArray<float>();
            var got = map.Values.To(ScalarType.Float32).ToArray<float>();
            for (var j = 0; j < want.Length; j++) Assert.Equal(want[j], got[j], 2e-3f + 1e-3f * Math.Abs(want[j]));
        }
    }

    [Fact]
    public void TeacherOfASubsetAnnotatesWithItsOwnClassCount()
    {
        // An ImageNet-subset teacher (4 classes, as in budget reproductions on ImageNet-100): the head size comes from
        // the weights, so the registry's 1000-way resnet18 entry needs no option.
        using var dir = new TempDir();
        using var scope = Scope.Enter();
        using var gen = new Generator(4);
        ImageCodec.SavePng(Path.Combine(dir["imagenet/train"], "n01440764/a.png"), Torch.Torch.Randint(0, 256, [3, 48, 48], gen).To(ScalarType.UInt8));
        Torch.Torch.ManualSeed(5);
        var entry = ModelRegistry.Get("resnet18").With(ResNetConfig.ResNet18 with { NumClasses = 4 });
        using var model = entry.Create();
        SafeTensors.SaveModule(dir["r18-4.safetensors"], model);

        var r = CliRunner.Run("annotate", "--model", "resnet18", "--weights", dir["r18-4.safetensors"], "--data", "imagenet",
            "--root", dir["imagenet"], "--resolution", "64", "--topk", "3", "--out", dir["labels.tls"]);

        Assert.True(r.ExitCode == 0, r.Stderr);
        using var store = TokenLabelStore.Open(dir["labels.tls"]);
        Assert.Equal(new TokenLabelStoreFormat(3, 2, 2, 4), store.Format);
        Assert.All(store.Read("n01440764/a").Indices.To(ScalarType.Int64).ToArray<long>(), c => Assert.InRange(c, 0, 3));

        // --topk beyond the teacher's classes is still refused, naming both numbers.
        var tooMany = CliRunner.Run("annotate", "--model", "resnet18", "--weights", dir["r18-4.safetensors"], "--data", "imagenet",
            "--root", dir["imagenet"], "--resolution", "64", "--topk", "5", "--out", dir["labels5.tls"]);
        Assert.Equal(1, tooMany.ExitCode);
        Assert.Contains("--topk 5 exceeds the model's 4 classes", tooMany.Stderr, StringComparison.Ordinal);
    }
}
