using System.Globalization;
using System.Text.Json;
using Reproduce.Torch;

namespace Reproduce.Bench;

/// <summary>
/// Checks that both sides compute the same training: PyTorch dumps its initial weights and batch and trains
/// a few steps; the C# side loads those weights (timm keys), trains the same steps with Optim.AdamW and
/// compares every loss and every final parameter.
/// </summary>
internal static class Verify
{
    public static string Run(string python, string script, BenchModel bm, int threads, int steps, ulong seed)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"reproduce-bench-verify-{Environment.ProcessId}");
        try
        {
            var inv = CultureInfo.InvariantCulture;
            PyTorch.RunOnce(python, script, "--model", bm.Name, "--threads", PyTorch.Str(threads), "--steps", PyTorch.Str(steps),
                "--seed", seed.ToString(inv), "--dump", dir);
            using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "manifest.json")));
            var root = manifest.RootElement;
            using var scope = Scope.Enter();
            var initial = Load(Path.Combine(dir, "initial.bin"), root.GetProperty("initial"));
            var final = Load(Path.Combine(dir, "final.bin"), root.GetProperty("final"));
            var pyLosses = root.GetProperty("losses").EnumerateArray().Select(e => e.GetDouble()).ToArray();

            var (x, y) = (initial["x"], initial["y"]);
            initial.Remove("x");
            initial.Remove("y");
            using var trainer = CSharpTrainer.FromState(bm, initial, x, y);
            var csLosses = Enumerable.Range(0, steps).Select(_ => trainer.TrainStep()).ToArray();

            var lossDiff = csLosses.Zip(pyLosses, (a, b) => Math.Abs(a - b)).Max();
            var paramDiff = 0.0;
            var differing = 0;
            foreach (var (key, p) in trainer.Model.NamedParameters())
            {
                var d = p.Detach().Sub(final[key]).Abs().Max().ToDouble();
                paramDiff = Math.Max(paramDiff, d);
                if (d > 0) differing++;
            }
            var losses = string.Join(", ", csLosses.Zip(pyLosses, (a, b) => string.Create(inv, $"{a:F6}/{b:F6}")));
            return string.Create(inv,
                $"verify {bm.Name}: {steps} steps from PyTorch's initial weights and batch: losses C#/PyTorch [{losses}], max |dloss| {lossDiff:G3}; final params max |d| {paramDiff:G3} ({differing} of {final.Count} tensors not bit-identical)");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static Dictionary<string, Tensor> Load(string blob, JsonElement entries)
    {
        var bytes = File.ReadAllBytes(blob);
        var result = new Dictionary<string, Tensor>();
        foreach (var e in entries.EnumerateArray())
        {
            var dtype = e.GetProperty("dtype").GetString() switch
            {
                "float32" => ScalarType.Float32,
                "int64" => ScalarType.Int64,
                var d => throw new InvalidDataException($"unexpected dtype {d} in {blob}"),
            };
            var shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            var n = shape.Aggregate(1L, (a, b) => a * b) * (dtype == ScalarType.Float32 ? 4 : 8);
            var offset = e.GetProperty("offset").GetInt64();
            result[e.GetProperty("name").GetString()!] = Tensor.FromBytes(bytes.AsSpan((int)offset, (int)n), dtype, shape);
        }
        return result;
    }
}
