using System.Globalization;
using System.Text;
using Reproduce.Torch.IO;
using Reproduce.Torch.Nn;
using Reproduce.Torch;
using Reproduce.Training.Checkpoints.Released;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Inference;

/// <summary>
/// <c>reproduce infer</c>: a registered model (optionally with safetensors weights) in eval mode, run on a tensor file
/// or on a folder of images. Every check happens before anything is written; outputs are written atomically, so bad
/// input leaves no output file.
/// </summary>
public static class ModelInference
{
    /// <summary>Name of the input tensor in <c>--tensor</c> files.</summary>
    public const string InputKey = "input";

    /// <summary>Name of the output tensor.</summary>
    public const string LogitsKey = "logits";

    /// <summary>Builds <paramref name="modelName"/> in eval mode, loading <paramref name="weightsPath"/> (strict; a shape mismatch names the key and both shapes).</summary>
    public static Module<Tensor, Tensor> LoadModel(string modelName, string? weightsPath)
    {
        var entry = ModelRegistry.Get(modelName);
        if (entry.Create() is not Module<Tensor, Tensor> model)
            throw new InferenceException($"infer: model '{modelName}' does not map an image tensor to logits");
        if (weightsPath is not null)
        {
            if (!WeightsFile.Exists(weightsPath)) throw new InferenceException($"infer: weights file {weightsPath} does not exist");
            try
            {
                ModelWeights.LoadStrict(model, weightsPath);
            }
            catch (Exception e) when (e is TorchException or SafeTensorsException or IOException or InvalidDataException)
            {
                model.Dispose();
                throw new InferenceException($"infer: weights {weightsPath} do not fit model '{modelName}': {e.Message}", e);
            }
        }
        model.Eval();
        return model;
    }

    /// <summary>
    /// Reads the tensor <c>input</c> ([B, C, H, W] float32, already normalised) from <paramref name="inputPath"/>, runs the
    /// model and writes the tensor <c>logits</c> to <paramref name="outputPath"/> (safetensors). Returns the logits' shape.
    /// </summary>
    public static long[] RunTensor(Module<Tensor, Tensor> model, string inputPath, string outputPath)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = Scope.Enter();
        Dictionary<string, Tensor> tensors;
        try
        {
            tensors = SafeTensors.Load(inputPath);
        }
        catch (Exception e) when (e is SafeTensorsException or IOException)
        {
            throw new InferenceException($"infer: cannot read {inputPath}: {e.Message}", e);
        }
        if (!tensors.TryGetValue(InputKey, out var input))
            throw new InferenceException($"infer: {inputPath} has no tensor named '{InputKey}' (it holds: {string.Join(", ", tensors.Keys.Order(StringComparer.Ordinal))})");
        if (input.Dim != 4)
            throw new InferenceException($"infer: '{InputKey}' in {inputPath} has shape {Shape(input)}; expected rank 4 [B, C, H, W]");
        if (input.DType != ScalarType.Float32)
            throw new InferenceException($"infer: '{InputKey}' in {inputPath} is {input.DType}; expected float32");
        Tensor logits;
        try
        {
            logits = Forward(model, input);
        }
        catch (Exception e) when (e is TorchException or ArgumentException)
        {
            throw new InferenceException($"infer: the model cannot take '{InputKey}' {Shape(input)} from {inputPath}: {e.Message}", e);
        }
        SafeTensors.Save(outputPath, new Dictionary<string, Tensor> { [LogitsKey] = logits });
        return logits.Shape;
    }

    /// <summary>The model's logits for a batch, without autograd.</summary>
    public static Tensor Forward(Module<Tensor, Tensor> model, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var noGrad = Torch.Torch.NoGrad();
        return model.Forward(input);
    }

    /// <summary>
    /// Applies the model's eval transform (<see cref="ModelEvalSettings"/>) to every JPEG/PNG under
    /// <paramref name="imageDir"/> (recursively, ordinal order of relative paths) and writes a CSV with one row per image:
    /// <c>file,class_1,prob_1,…,class_k,prob_k</c> (softmax probabilities, k = min(5, classes)). Returns the rows written.
    /// </summary>
    public static int RunImages(string modelName, Module<Tensor, Tensor> model, string imageDir, string outputCsv)
    {
        ArgumentNullException.ThrowIfNull(model);
        var entry = ModelRegistry.Get(modelName);
        var transform = ModelEvalSettings.For(entry);
        var mode = ModelEvalSettings.InChans(entry) == 1 ? ImageReadMode.Gray : ImageReadMode.Rgb;
        if (!Directory.Exists(imageDir)) throw new InferenceException($"infer: the image folder {Path.GetFullPath(imageDir)} does not exist");
        var files = Directory.EnumerateFiles(imageDir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(imageDir, f))
            .Where(f => Path.GetExtension(f).ToLowerInvariant() is ".jpg" or ".jpeg" or ".png")
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0) throw new InferenceException($"infer: no .jpg, .jpeg or .png files under {Path.GetFullPath(imageDir)}");
        var csv = new StringBuilder();
        var k = -1;
        foreach (var file in files)
        {
            using var scope = Scope.Enter();
            var path = Path.Combine(imageDir, file);
            Tensor image;
            try
            {
                image = ImageCodec.DecodeFile(path, mode);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                throw new InferenceException($"infer: cannot decode {path}: {e.Message}", e);
            }
            var logits = Forward(model, transform.Apply(image).Unsqueeze(0));
            var probs = F.Softmax(logits.To(ScalarType.Float64), -1).Squeeze(0);
            if (k < 0)
            {
                k = (int)Math.Min(5, probs.Size(0));
                csv.Append("file");
                for (var i = 1; i <= k; i++) csv.Append(CultureInfo.InvariantCulture, $",class_{i},prob_{i}");
                csv.Append('\n');
            }
            var (values, indices) = probs.TopK(k);
            var p = values.ToArray<double>();
            var c = indices.ToArray<long>();
            csv.Append(CsvField(file.Replace('\\', '/')));
            for (var i = 0; i < k; i++) csv.Append(CultureInfo.InvariantCulture, $",{c[i]},{p[i]:R}");
            csv.Append('\n');
        }
        AtomicFile.WriteAllText(outputCsv, csv.ToString());
        return files.Count;
    }

    private static string Shape(Tensor t) => "[" + string.Join(",", t.Shape) + "]";

    private static string CsvField(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
