using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Training.Config;
using Reproduce.Training.Probes;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.FashionScenes;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Analysis;

/// <summary>What <c>reproduce analyze</c> runs.</summary>
/// <param name="Model">Registered ViT name.</param>
/// <param name="Overrides">Model keys (<c>drop_path_rate</c>=<c>0.1</c>, <c>anf.kernel_size</c>=<c>5</c>; see <see cref="ModelSection"/>).</param>
/// <param name="Weights">Optional safetensors weights.</param>
/// <param name="Images">Number of images analysed (the first N of the test split).</param>
/// <param name="ScenesRoot">A fashion-scenes tree (null: the cached default tree) for 3-channel models.</param>
/// <param name="Options">Outlier rule and histogram.</param>
public sealed record AnalysisRequest(string Model, IReadOnlyList<KeyValuePair<string, string>> Overrides, string? Weights, int Images,
    string? ScenesRoot, TokenAnalysisOptions Options);

/// <summary>
/// <c>reproduce analyze</c>: <see cref="TokenAnalysis"/> of a registered ViT on the first N test images of the embedded
/// data — fashion-scenes (ADE20K-layout test split, resized to the model's input, ImageNet normalisation) for 3-channel
/// models, Fashion-MNIST's test images for 1-channel 28×28 models — written as one JSON file (atomically).
/// </summary>
public static class AnalysisRun
{
    /// <summary>Runs the analysis and writes it to <paramref name="outFile"/>; returns the JSON.</summary>
    public static JsonObject Run(AnalysisRequest request, string outFile)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(outFile);
        if (request.Images < 1) throw new ArgumentException($"analyze: --images must be ≥ 1 (got {request.Images})");
        request.Options.Validate();
        if (request.ScenesRoot is { } root && !Directory.Exists(root)) throw new DirectoryNotFoundException($"analyze: --root '{root}' does not exist");
        using var scope = Scope.Enter();
        var entry = ModelSection.Resolve(request.Model, request.Overrides.Select(kv => $"{kv.Key}={kv.Value}"));
        using var vit = entry.Config is VitConfig config ? new VisionTransformer(config) : throw new ArgumentException($"analyze: model '{request.Model}' is not a VisionTransformer");
        if (request.Weights is { } w) BackboneWeights.Load(vit, w);
        var (images, source) = Images(vit, request);
        var stats = TokenAnalysis.Analyze(vit, images, request.Options);
        var meta = new JsonObject
        {
            ["model"] = request.Model,
            ["overrides"] = new JsonArray(request.Overrides.Select(kv => (JsonNode?)$"{kv.Key}={kv.Value}").ToArray()),
            ["weights"] = request.Weights,
            ["images"] = images.Size(0),
            ["image_source"] = source,
        };
        var json = TokenAnalysis.ToJson(stats, request.Options, meta);
        var text = json.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
        AtomicFile.WriteAllText(Path.GetFullPath(outFile), text, createDirectory: true);
        return json;
    }

    private static (Tensor Images, string Source) Images(VisionTransformer vit, AnalysisRequest request)
    {
        var c = vit.Config;
        if (c.InChans == 1)
        {
            if (c.ImgSize != 28) throw new ArgumentException($"analyze: a 1-channel model is fed Fashion-MNIST (28×28), but {request.Model} takes {c.ImgSize}×{c.ImgSize}");
            var test = FashionMnist.Load("test");
            var n = Math.Min(request.Images, test.Count);
            var (x, _) = test.Batch(Enumerable.Range(0, n).ToArray());
            return (x, "fashion-mnist/test");
        }
        if (c.InChans != 3) throw new ArgumentException($"analyze: no embedded images for a {c.InChans}-channel model");
        var tree = request.ScenesRoot is { } root ? FashionScenesTree.Open(root) : FashionScenes.Ensure(new FashionScenesConfig());
        var seg = tree.Segmentation("test");
        var count = Math.Min(request.Images, seg.Count);
        var list = new List<Tensor>();
        for (var i = 0; i < count; i++)
        {
            using var sample = seg.Load(i);
            list.Add(ProbeInputs.Image(sample.Image, c.ImgSize, flip: false));
        }
        return (Tensor.Cat(list, 0), $"fashion-scenes/test ({tree.Root})");
    }
}
