using Reproduce.Torch.IO;
using Reproduce.Training.Annotation;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Annotation;

/// <summary><c>reproduce annotate</c> at smoke scale: a tiny ResNet annotator over a few Fashion-MNIST images, read back.</summary>
[Collection(nameof(SerialTests))]
public class AnnotateCliTests
{
    private const string Teacher = "resnet_tiny_fm28";

    [Fact]
    public void StoreHoldsTheTeachersTopKDenseScoresInOrder()
    {
        using var dir = new TempDir();
        using var scope = Scope.Enter();
        Torch.Torch.ManualSeed(5);
        var entry = ModelRegistry.Get(Teacher);
        using var model = entry.Create();
        model.Eval();
        SafeTensors.SaveModule(dir["teacher.safetensors"], model);

        var r = CliRunner.Run("annotate", "--model", Teacher, "--weights", dir["teacher.safetensors"], "--data", "fashion-mnist",
            "--split", "test", "--limit", "6", "--batch", "4", "--resolution", "28", "--topk", "3", "--out", dir["labels.tls"]);

        Assert.True(r.ExitCode == 0, r.Stderr);
        using var store = TokenLabelStore.Open(dir["labels.tls"]);
        Assert.Equal(6, store.Count);
        Assert.Equal(new TokenLabelStoreFormat(3, 4, 4, 10), store.Format);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => Annotator.FashionMnistKey("test", i)), store.Keys);
        var test = FashionMnist.Load("test");
        var transform = Annotator.Transform(entry, 28);
        for (var i = 0; i < 6; i++)
        {
            const int px = FashionMnistSplit.Side * FashionMnistSplit.Side;
            var image = Tensor.From<byte>(test.Images.AsSpan(i * px, px), [1, 28, 28]);
            var scores = Annotator.DenseScores(model, transform.Apply(image).Unsqueeze(0)).Squeeze(0);
            var (values, indices) = scores.TopK(3, dim: 0);
            var map = store.Read(Annotator.FashionMnistKey("test", i));
            Assert.Equal([3L, 4, 4], map.Values.Shape);
            Assert.Equal(indices.To(ScalarType.Int64).ToArray<long>(), map.Indices.To(ScalarType.Int64).ToArray<long>());
            var want = values.ToArray<float>();
            var got = map.Values.To(ScalarType.Float32).ToArray<float>();
            for (var j = 0; j < want.Length; j++) Assert.Equal(want[j], got[j], 2e-3f + 1e-3f * Math.Abs(want[j]));
            // top-k order: along k, scores never increase.
            var v = map.Values.To(ScalarType.Float32);
            Assert.True(v.Narrow(0, 0, 2).Ge(v.Narrow(0, 1, 2)).All().ToDouble() != 0);
        }

        // A larger resolution gives a larger score grid (stride 8: 56 → 7×7).
        var big = CliRunner.Run("annotate", "--model", Teacher, "--weights", dir["teacher.safetensors"], "--data", "fashion-mnist",
            "--split", "test", "--limit", "2", "--resolution", "56", "--topk", "2", "--out", dir["big.tls"]);
        Assert.True(big.ExitCode == 0, big.Stderr);
        using var bigStore = TokenLabelStore.Open(dir["big.tls"]);
        Assert.Equal(new TokenLabelStoreFormat(2, 7, 7, 10), bigStore.Format);
    }

    [Fact]
    public void VitWithAuxHeadStoresItsPatchLogitsOnThePatchGrid()
    {
        // lvvit_tiny_fm28: patch 4 on 28×28 → a 7×7 grid of aux-head logits over 10 classes.
        using var dir = new TempDir();
        using var scope = Scope.Enter();
        Torch.Torch.ManualSeed(6);
        var entry = ModelRegistry.Get("lvvit_tiny_fm28");
        using var model = (VisionTransformer)entry.Create();
        model.Eval();
        SafeTensors.SaveModule(dir["lvvit.safetensors"], model);

        var r = CliRunner.Run("annotate", "--model", "lvvit_tiny_fm28", "--weights", dir["lvvit.safetensors"], "--data", "fashion-mnist",
            "--limit", "3", "--resolution", "28", "--topk", "4", "--out", dir["labels.tls"]);

        Assert.True(r.ExitCode == 0, r.Stderr);
        using var store = TokenLabelStore.Open(dir["labels.tls"]);
        Assert.Equal(new TokenLabelStoreFormat(4, 7, 7, 10), store.Format);
        var train = FashionMnist.Load("train");
        const int px = FashionMnistSplit.Side * FashionMnistSplit.Side;
        var images = Tensor.Stack(Enumerable.Range(0, 3)
            .Select(i => Annotator.Transform(entry, 28).Apply(Tensor.From<byte>(train.Images.AsSpan(i * px, px), [1, 28, 28]))).ToList());
        Tensor aux;
        using (Torch.Torch.NoGrad()) aux = model.ForwardTokenLabeling(images).AuxLogits; // [3, 49, 10], patches row-major
        for (var i = 0; i < 3; i++)
        {
            var map = store.Read(Annotator.FashionMnistKey("train", i));
            var (values, indices) = aux.Select(0, i).TopK(4, dim: 1); // [49, 4]
            Assert.Equal(indices.T().Reshape(4, 7, 7).To(ScalarType.Int64).ToArray<long>(), map.Indices.To(ScalarType.Int64).ToArray<long>());
            var want = values.T().Reshape(4, 7, 7).Contiguous().ToArray<float>();
            var got = map.Values.To(ScalarType.Float32).ToArray<float>();
            for (var j = 0; j < want.Length; j++) Assert.Equal(want[j], got[j], 2e-3f + 1e-3f * Math.Abs(want[j]));
        }
    }

    [Fact]
    public void ModelWithoutDenseScoresIsAnErrorAndWritesNoStore()
    {
        using var dir = new TempDir();
        using var scope = Scope.Enter();
        Torch.Torch.ManualSeed(5);
        using var vit = ModelRegistry.Create("vit_tiny_fm28");
        SafeTensors.SaveModule(dir["vit.safetensors"], vit);

        var r = CliRunner.Run("annotate", "--model", "vit_tiny_fm28", "--weights", dir["vit.safetensors"], "--data", "fashion-mnist",
            "--limit", "2", "--resolution", "28", "--topk", "3", "--out", dir["labels.tls"]);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("vit_tiny_fm28", r.Stderr);
        Assert.Contains("no dense score maps", r.Stderr);
        Assert.False(File.Exists(dir["labels.tls"]));
    }
}
