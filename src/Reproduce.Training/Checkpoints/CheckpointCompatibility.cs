using System.Globalization;
using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Training.Checkpoints;

/// <summary>
/// Checks, before anything is modified, that a checkpoint fits the components it is restored into:
/// the same state-dict keys with the same shapes for the model and the EMA (shape mismatches name the key and
/// both shapes; missing and unexpected keys are listed), the same optimizer type, group structure and state
/// shapes, and a saved state of the right size for every generator.
/// </summary>
internal static class CheckpointCompatibility
{
    private const int MaxListed = 12;

    public static void Check(Checkpoint ckpt, TrainingComponents c)
    {
        CheckModel(ckpt.Path, c.Model, ckpt.Section(CheckpointFormat.Model));
        if (c.Ema is { } ema)
        {
            if (!ckpt.HasEma) throw new CheckpointException($"checkpoint '{ckpt.Path}' has no EMA state, but an EMA was given to restore");
            CheckStateDict(ckpt.Path, "EMA", ema.Shadow.Select(e => (e.Key, e.Value.Shape)), ckpt.Section(CheckpointFormat.Ema));
        }
        if (c.Optimizer is { } opt) CheckOptimizer(ckpt, opt);
        foreach (var (name, g) in CheckpointFormat.Generators(c))
        {
            if (!ckpt.Tensors.TryGetValue(CheckpointFormat.Rng + name, out var saved))
                throw new CheckpointException($"checkpoint '{ckpt.Path}' has no state for generator '{name}' (it has: {string.Join(", ", ckpt.GeneratorNames)})");
            using var scope = Scope.Enter();
            var current = g.GetState();
            if (saved.DType != ScalarType.UInt8 || !saved.Shape.SequenceEqual(current.Shape))
                throw new CheckpointException($"checkpoint '{ckpt.Path}': generator '{name}' state is {saved.Describe()} but this generator's is {current.Describe()}");
        }
    }

    /// <summary>Checks a saved state dict against <paramref name="model"/>'s parameters and persistent buffers.</summary>
    public static void CheckModel(string path, Module model, IReadOnlyDictionary<string, Tensor> saved)
    {
        var expected = model.NamedParameters().Select(p => (p.Name, p.Parameter.Shape))
            .Concat(model.NamedBuffers(persistentOnly: true).Select(b => (b.Name, b.Buffer.Shape)));
        CheckStateDict(path, "model", expected, saved);
    }

    private static void CheckStateDict(string path, string what, IEnumerable<(string Key, long[] Shape)> expected, IReadOnlyDictionary<string, Tensor> saved)
    {
        var want = expected.ToDictionary(e => e.Key, e => e.Shape, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (key, shape) in want)
        {
            if (saved.TryGetValue(key, out var t) && !t.Shape.SequenceEqual(shape))
                problems.Add($"'{key}' has shape {CheckpointFormat.Shape(t.Shape)} in the checkpoint but {CheckpointFormat.Shape(shape)} in the {what}");
        }
        var missing = want.Keys.Where(k => !saved.ContainsKey(k)).ToList();
        var unexpected = saved.Keys.Where(k => !want.ContainsKey(k)).ToList();
        if (missing.Count > 0) problems.Add($"missing keys (in the {what}, not in the checkpoint): {List(missing)}");
        if (unexpected.Count > 0) problems.Add($"unexpected keys (in the checkpoint, not in the {what}): {List(unexpected)}");
        if (problems.Count > 0)
            throw new CheckpointException($"checkpoint '{path}' does not fit the {what}: {string.Join("; ", problems.Take(MaxListed))}" +
                                          (problems.Count > MaxListed ? $"; and {problems.Count - MaxListed} more" : ""));
    }

    private static void CheckOptimizer(Checkpoint ckpt, Torch.Optim.Optimizer opt)
    {
        var path = ckpt.Path;
        var meta = ckpt.OptimizerMeta ?? throw new CheckpointException($"checkpoint '{path}' has no optimizer state, but an optimizer was given to restore");
        var savedType = (string?)meta["optimizer"];
        if (savedType != opt.GetType().Name)
            throw new CheckpointException($"checkpoint '{path}': the optimizer state was saved by {savedType ?? "?"}, not {opt.GetType().Name}");
        var groups = meta["param_groups"] as JsonArray ?? throw new CheckpointException($"checkpoint '{path}': the optimizer state has no param_groups");
        if (groups.Count != opt.Groups.Count)
            throw new CheckpointException($"checkpoint '{path}': the optimizer state has {groups.Count} parameter groups but the optimizer has {opt.Groups.Count}");
        for (var gi = 0; gi < groups.Count; gi++)
        {
            var count = (groups[gi]?["params"] as JsonArray)?.Count ?? -1;
            if (count != opt.Groups[gi].Parameters.Count)
                throw new CheckpointException($"checkpoint '{path}': optimizer group {gi} ('{opt.Groups[gi].Name}') has {count} parameters in the checkpoint but {opt.Groups[gi].Parameters.Count} in the optimizer");
        }
        var parameters = opt.Parameters.ToArray();
        foreach (var (key, t) in ckpt.Section(CheckpointFormat.Optim))
        {
            var parts = key.Split('.');
            if (parts.Length != 3 || parts[0] != "state" || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var i) || i >= parameters.Length)
                throw new CheckpointException($"checkpoint '{path}': unexpected optimizer tensor 'optim.{key}' (the optimizer has {parameters.Length} parameters)");
            if (!t.Shape.SequenceEqual(parameters[i].Shape))
                throw new CheckpointException($"checkpoint '{path}': optimizer state 'optim.{key}' has shape {CheckpointFormat.Shape(t.Shape)} in the checkpoint but parameter {i} has {CheckpointFormat.Shape(parameters[i].Shape)}");
        }
    }

    private static string List(List<string> keys) =>
        "[" + string.Join(", ", keys.Take(MaxListed)) + (keys.Count > MaxListed ? $", … {keys.Count - MaxListed} more" : "") + "]";
}
