using System.Globalization;
using Reproduce.Torch.IO;
using Reproduce.Torch.Nn;
using Reproduce.Training.Inference;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Inference;

/// <summary><c>reproduce infer</c> through the CLI, compared with the same model run in this process.</summary>
[Collection(nameof(SerialTests))]
public class InferCliTests
{
    private const string ModelName = "vit_tiny_fm28";

    private static Module<Tensor, Tensor> SavedModel(string weightsPath)
    {
        Torch.Torch.ManualSeed(7);
        var model = (Module<Tensor, Tensor>)ModelRegistry.Create(ModelName);
        model.Eval();
        SafeTensors.SaveModule(weightsPath, model);
        return model;
    }

    [Fact]
    public void TensorRoundTripEqualsInProcessForward()
    {
        using var dir = new TempDir();
        using var scope = Scope.Enter();
        using var model = SavedModel(dir["w.safetensors"]);
        using var gen = new Generator(11);
        var input = Torch.Torch.Randn([3, 1, 28, 28], gen);
        SafeTensors.Save(dir["in.safetensors"], new Dictionary<string, Tensor> { ["input"] = input });

        var r = CliRunner.Run("infer", "--model", ModelName, "--weights", dir["w.safetensors"], "--tensor", dir["in.safetensors"], "--out", dir["out.safetensors"]);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("wrote logits [3, 10]", r.Stdout);
        var logits = SafeTensors.Load(dir["out.safetensors"])["logits"];
        var expected = ModelInference.Forward(model, input);
        Assert.Equal([3L, 10], logits.Shape);
        var a = logits.ToArray<float>();
        var e = expected.ToArray<float>();
        for (var i = 0; i < e.Length; i++) Assert.Equal(e[i], a[i], 1e-5f);
    }

    [Fact]
    public void BadInputIsAClearErrorAndWritesNothing()
    {
        using var dir = new TempDir();
        using var scope = Scope.Enter();
        using var model = SavedModel(dir["w.safetensors"]);
        var output = dir["out.safetensors"];

        // No tensor named `input`.
        SafeTensors.Save(dir["x.safetensors"], new Dictionary<string, Tensor> { ["images"] = Torch.Torch.Zeros([1, 1, 28, 28]) });
        var noInput = CliRunner.Run("infer", "--model", ModelName, "--tensor", dir["x.safetensors"], "--out", output);
        Assert.Equal(1, noInput.ExitCode);
        Assert.Contains("no tensor named 'input'", noInput.Stderr);
        Assert.Contains(dir["x.safetensors"], noInput.Stderr);
        Assert.Contains("images", noInput.Stderr);

        // Wrong rank.
        SafeTensors.Save(dir["r3.safetensors"], new Dictionary<string, Tensor> { ["input"] = Torch.Torch.Zeros([1, 28, 28]) });
        var rank = CliRunner.Run("infer", "--model", ModelName, "--tensor", dir["r3.safetensors"], "--out", output);
        Assert.Equal(1, rank.ExitCode);
        Assert.Contains("[1,28,28]", rank.Stderr);
        Assert.Contains("rank 4", rank.Stderr);

        // Weights whose head has another number of classes: the key and both shapes are named.
        var state = model.StateDict();
        state["head.weight"] = Torch.Torch.Zeros([5, 96]);
        SafeTensors.Save(dir["bad.safetensors"], state);
        SafeTensors.Save(dir["in.safetensors"], new Dictionary<string, Tensor> { ["input"] = Torch.Torch.Zeros([1, 1, 28, 28]) });
        var weights = CliRunner.Run("infer", "--model", ModelName, "--weights", dir["bad.safetensors"], "--tensor", dir["in.safetensors"], "--out", output);
        Assert.Equal(1, weights.ExitCode);
        Assert.Contains("head.weight", weights.Stderr);
        Assert.Contains("[5,96]", weights.Stderr);
        Assert.Contains("[10,96]", weights.Stderr);
        Assert.Contains(dir["bad.safetensors"], weights.Stderr);

        Assert.False(File.Exists(output));
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void ImagesGiveTop5CsvOfTheEvalTransformedImages()
    {
        using var dir = new TempDir();
        using var scope = Scope.Enter();
        using var model = SavedModel(dir["w.safetensors"]);
        using var gen = new Generator(3);
        var images = new Dictionary<string, Tensor>
        {
            ["a.png"] = Torch.Torch.Randint(0, 256, [1, 28, 28], gen).To(ScalarType.UInt8),
            ["sub/b.png"] = Torch.Torch.Randint(0, 256, [1, 32, 40], gen).To(ScalarType.UInt8),
        };
        foreach (var (name, img) in images) ImageCodec.SavePng(Path.Combine(dir["imgs"], name), img);

        var r = CliRunner.Run("infer", "--model", ModelName, "--weights", dir["w.safetensors"], "--images", dir["imgs"], "--out", dir["top5.csv"]);

        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = File.ReadAllLines(dir["top5.csv"]);
        Assert.Equal("file,class_1,prob_1,class_2,prob_2,class_3,prob_3,class_4,prob_4,class_5,prob_5", lines[0]);
        Assert.Equal(3, lines.Length);
        var transform = ModelEvalSettings.For(ModelRegistry.Get(ModelName));
        foreach (var (line, (name, img)) in lines.Skip(1).Zip(images.OrderBy(kv => kv.Key, StringComparer.Ordinal)))
        {
            var fields = line.Split(',');
            Assert.Equal(name, fields[0]);
            var probs = F.Softmax(ModelInference.Forward(model, transform.Apply(img).Unsqueeze(0)).To(ScalarType.Float64), -1).Squeeze(0);
            var (values, indices) = probs.TopK(5);
            var p = values.ToArray<double>();
            var c = indices.ToArray<long>();
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(c[i], long.Parse(fields[1 + 2 * i], CultureInfo.InvariantCulture));
                Assert.Equal(p[i], double.Parse(fields[2 + 2 * i], CultureInfo.InvariantCulture), 1e-6);
                if (i > 0) Assert.True(p[i] <= p[i - 1]);
            }
        }
    }
}
