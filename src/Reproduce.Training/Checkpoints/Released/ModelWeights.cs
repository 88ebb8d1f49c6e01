using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Checkpoints.Released;

/// <summary>
/// The one reader behind every <c>model.weights</c> / <c>--weights</c> (train's initial weights, eval, infer, probes, analyze,
/// annotate): <see cref="WeightsFile"/> (format and wrapper) then, for a <see cref="VisionTransformer"/> read from a
/// <c>torch.save</c> file, <see cref="CheckpointKeyMapping"/> (released key names and grids; safetensors files are taken
/// as they are, so a grid mismatch there stays an error). Callers check the keys against their model with the
/// strictness they need (<see cref="Check"/>).
/// </summary>
public static class ModelWeights
{
    /// <summary>The state dict of <paramref name="path"/> in <paramref name="model"/>'s keys.</summary>
    public static WeightsFileContent Read(Module model, string path, string? entry = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var content = WeightsFile.Read(path, entry);
        // safetensors files are ours or timm's, already in our keys and grids: a pos_embed of another grid stays an
        // error there, as it always was; the released torch.save layouts are mapped.
        if (model is not VisionTransformer vit || WeightsFile.IsSafeTensors(WeightsFile.SplitEntry(path, entry).Path)) return content;
        var notes = new List<string>(content.Ignored);
        Dictionary<string, Tensor> state;
        try
        {
            state = CheckpointKeyMapping.ForVit(vit, content.State, notes);
        }
        catch (Exception e) when (e is ArgumentException or TorchException or InvalidDataException)
        {
            throw new InvalidDataException($"weights file '{path}': {e.Message}", e);
        }
        return content with { State = state, Ignored = notes };
    }

    /// <summary>
    /// Every way <paramref name="state"/> does not fit <paramref name="model"/>: missing keys (with the model's shape), shape
    /// mismatches (both shapes) and, unless <paramref name="allowExtra"/>, keys the model lacks. Keys in <paramref name="skip"/>
    /// are not checked.
    /// </summary>
    public static List<string> Check(Module model, IReadOnlyDictionary<string, Tensor> state, bool allowExtra, IReadOnlyCollection<string>? skip = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        skip ??= [];
        var expected = Expected(model);
        var problems = new List<string>();
        foreach (var (key, shape) in expected)
        {
            if (skip.Contains(key)) continue;
            if (!state.TryGetValue(key, out var t)) problems.Add($"missing key '{key}' (model shape {Shape(shape)})");
            else if (!t.Shape.SequenceEqual(shape)) problems.Add($"key '{key}': the file has shape {Shape(t.Shape)}, the model {Shape(shape)}");
        }
        if (!allowExtra)
            problems.AddRange(state.Keys.Where(k => !expected.ContainsKey(k) && !skip.Contains(k)).Order(StringComparer.Ordinal).Select(k => $"unexpected key '{k}'"));
        return problems;
    }

    /// <summary>The model's parameters and persistent buffers with their shapes.</summary>
    public static Dictionary<string, long[]> Expected(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.NamedParameters().Select(p => (p.Name, p.Parameter.Shape))
            .Concat(model.NamedBuffers(persistentOnly: true).Select(b => (b.Name, b.Buffer.Shape))).ToDictionary(p => p.Name, p => p.Shape);
    }

    /// <summary>"; "-joined problems, at most ten, with a count of the rest.</summary>
    public static string Summarize(IReadOnlyList<string> problems) =>
        $"{string.Join("; ", problems.Take(10))}{(problems.Count > 10 ? $" (and {problems.Count - 10} more)" : "")}";

    /// <summary>
    /// Reads <paramref name="path"/> and loads it into <paramref name="model"/> strictly: every key present with its shape and no
    /// other key (the message names the file and every problem). Returns what the file held besides the state dict.
    /// </summary>
    public static IReadOnlyList<string> LoadStrict(Module model, string path, string? entry = null)
    {
        using var scope = Scope.Enter();
        var content = Read(model, path, entry);
        var problems = Check(model, content.State, allowExtra: false);
        if (problems.Count > 0) throw new InvalidDataException($"weights file '{path}'{EntryText(content)} does not fit the model: {Summarize(problems)}");
        model.LoadStateDict(content.State, strict: true);
        return content.Ignored;
    }

    private static string Shape(IEnumerable<long> shape) => $"[{string.Join(",", shape)}]";

    /// <summary>" (entry 'model')" or "".</summary>
    public static string EntryText(WeightsFileContent content) => content.Entry is { } e ? $" (entry '{e}')" : "";
}
