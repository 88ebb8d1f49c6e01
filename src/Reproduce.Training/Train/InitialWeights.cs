using Reproduce.Torch;
using Reproduce.Training.Checkpoints.Released;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Train;

/// <summary>
/// <c>model.weights</c>: initial weights for fine-tuning, a safetensors file with timm keys (e.g. a run's
/// <c>model.safetensors</c>) or a released checkpoint in any format <see cref="ModelWeights"/> reads. A ViT's
/// <c>pos_embed</c> of another grid (a run trained at another <c>data.img_size</c>) is resampled bicubically to the
/// model's grid, as deit's <c>--finetune</c> does. Loading is strict — every parameter and persistent buffer
/// of the model must be in the file with the same shape and the file may hold no other key — except the classifier:
/// when the file's <c>head.weight</c> has another number of classes than the model (fine-tuning to a new label set),
/// the <c>head.*</c> and <c>aux_head.*</c> tensors are skipped and keep the model's fresh initialisation.
/// </summary>
public static class InitialWeights
{
    private static readonly string[] HeadPrefixes = ["head.", "aux_head."];

    /// <summary>Loads <paramref name="path"/> into <paramref name="model"/>; returns the keys skipped (the head, when its class count differs).</summary>
    public static IReadOnlyList<string> Load(Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(path);
        if (!WeightsFile.Exists(path)) throw new FileNotFoundException($"model.weights: '{path}' does not exist", path);
        using var scope = Scope.Enter();
        var saved = ModelWeights.Read(model, path).State;
        if (model is VisionTransformer vit && saved.TryGetValue("pos_embed", out var pe) && pe.Dim == 3 && pe.Size(1) != vit.Config.PosEmbedLength)
        {
            // Fine-tuning at another resolution (DeiT III: pretrain at 192, fine-tune at 224): deit main.py --finetune
            // interpolates the grid bicubically once at load. Upsampling, so timm's antialiasing changes nothing.
            try
            {
                saved = vit.FilterCheckpoint(saved);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"model.weights: '{path}': {e.Message}", e);
            }
        }
        var expected = model.NamedParameters().Select(p => (p.Name, p.Parameter.Shape))
            .Concat(model.NamedBuffers(persistentOnly: true).Select(b => (b.Name, b.Buffer.Shape))).ToDictionary(p => p.Name, p => p.Shape);
        var headDiffers = saved.TryGetValue("head.weight", out var fileHead) && expected.TryGetValue("head.weight", out var modelHead)
            && fileHead.Shape[0] != modelHead[0];
        var skipped = headDiffers ? saved.Keys.Where(IsHead).Order(StringComparer.Ordinal).ToList() : [];
        var problems = new List<string>();
        foreach (var (key, shape) in expected)
        {
            if (skipped.Contains(key)) continue;
            if (!saved.TryGetValue(key, out var t)) problems.Add($"missing key '{key}' (model shape [{string.Join(", ", shape)}])");
            else if (!t.Shape.SequenceEqual(shape)) problems.Add($"key '{key}': the file has shape [{string.Join(", ", t.Shape)}], the model [{string.Join(", ", shape)}]");
        }
        problems.AddRange(saved.Keys.Where(k => !expected.ContainsKey(k) && !skipped.Contains(k)).Order(StringComparer.Ordinal).Select(k => $"unexpected key '{k}'"));
        if (problems.Count > 0)
            throw new InvalidDataException($"model.weights: '{path}' does not fit the model: {string.Join("; ", problems.Take(10))}{(problems.Count > 10 ? $" (and {problems.Count - 10} more)" : "")}");
        var kept = saved.Where(kv => !skipped.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        model.LoadStateDict(kept, strict: !headDiffers);
        return skipped;
    }

    private static bool IsHead(string key) => HeadPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal));
}
