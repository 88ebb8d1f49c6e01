using Reproduce.Training.Checkpoints.Released;
using Reproduce.Torch.Nn;

namespace Reproduce.Training.Probes;

/// <summary>Loads a backbone's weights by timm key, for probes and analyses (any format <see cref="ModelWeights"/> reads).</summary>
public static class BackboneWeights
{
    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="model"/>. Every parameter and persistent buffer of the model must
    /// be in the file with the same shape (a mismatch names the key and both shapes); keys the model lacks (e.g. a
    /// classifier <c>head.*</c> when the backbone has none) are ignored and returned. Model keys <paramref name="optional"/>
    /// accepts may be missing from the file (they keep their initial values).
    /// </summary>
    public static IReadOnlyList<string> Load(Module model, string path, Func<string, bool>? optional = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(path);
        if (!WeightsFile.Exists(path)) throw new FileNotFoundException($"weights file '{path}' does not exist", path);
        var saved = ModelWeights.Read(model, path).State;
        try
        {
            var problems = new List<string>();
            var expected = model.NamedParameters().Select(p => (p.Name, p.Parameter.Shape))
                .Concat(model.NamedBuffers(persistentOnly: true).Select(b => (b.Name, b.Buffer.Shape)));
            foreach (var (key, shape) in expected)
            {
                if (!saved.TryGetValue(key, out var t))
                {
                    if (optional?.Invoke(key) != true) problems.Add($"missing key '{key}' (shape [{string.Join(", ", shape)}])");
                }
                else if (!t.Shape.SequenceEqual(shape))
                    problems.Add($"key '{key}': the file has shape [{string.Join(", ", t.Shape)}], the model [{string.Join(", ", shape)}]");
            }
            if (problems.Count > 0)
                throw new InvalidDataException($"weights file '{path}' does not fit the model: {string.Join("; ", problems.Take(10))}{(problems.Count > 10 ? $" (and {problems.Count - 10} more)" : "")}");
            return model.LoadStateDict(saved, strict: false).UnexpectedKeys;
        }
        finally
        {
            foreach (var t in saved.Values) t.Dispose();
        }
    }
}
