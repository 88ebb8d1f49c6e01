using System.Globalization;
using System.Text.Json;
using Reproduce.Torch;

namespace Reproduce.Bench;

/// <summary>
/// Checks that both sides compute the same training: PyTorch dumps its initial weights and batch and trains
/// a few steps; the C# side loads those weights (timm keys), trains the same steps with Optim.AdamW and
/// compares every loss and every final parameter. The GPU kit runs it on a CUDA device and with bf16 autocast
/// (<c>device</c>, <c>bf16</c>: the same on both sides; the model may be resized, see
/// <see cref="BenchModel.Resized"/>).
/// </summary>
internal static class Verify
{
    public static VerifyResult Run(string python, string script, BenchModel bm, int threads, int steps, ulong seed, Device? device = null, bool bf16 = false)
    {
        var d = device ?? Device.Cpu;
        var dir = Path.Combine(Path.GetTempPath(), $"reproduce-bench-verify-{Environment.ProcessId}");
        try
        {
            var inv = CultureInfo.InvariantCulture;
            PyTorch.RunOnce(python, script, [.. PyTorch.ModelArgs(bm, d, bf16), "--threads", PyTorch.Str(threads), "--steps", PyTorch.Str(steps),
                "--seed", seed.ToString(inv), "--dump", dir]);
            using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "manifest.json")));
            var root = manifest.RootElement;
            using var scope = Scope.Enter();
            var initial = Load(Path.Combine(dir, "initial.bin"), root.GetProperty("initial"));
            var final = Load(Path.Combine(dir, "final.bin"), root.GetProperty("final"));
            var pyLosses = root.GetProperty("losses").EnumerateArray().Select(e => e.GetDouble()).ToArray();

            var (x, y) = (initial["x"], initial["y"]);
            initial.Remove("x");
            initial.Remove("y");
            using var trainer = CSharpTrainer.FromState(bm, initial, x, y, d, bf16);
            var csLosses = Enumerable.Range(0, steps).Select(_ => trainer.TrainStep()).ToArray();

            var lossDiff = csLosses.Zip(pyLosses, (a, b) => Math.Abs(a - b)).Max();
            var paramDiff = 0.0;
            var differing = 0;
            foreach (var (key, p) in trainer.Model.NamedParameters())
            {
                var diff = p.Detach().To(Device.Cpu).Sub(final[key]).Abs().Max().ToDouble();
                paramDiff = Math.Max(paramDiff, diff);
                if (diff > 0) differing++;
            }
            return new VerifyResult(bm.Name, csLosses, pyLosses, lossDiff, paramDiff, differing, final.Count);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The tensors of a dump (float32 and int64 blobs, named by its manifest entries).</summary>
    internal static Dictionary<string, Tensor> Load(string blob, JsonElement entries)
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

/// <summary>What <see cref="Verify.Run"/> found: both sides' losses per step and the largest differences.</summary>
internal sealed record VerifyResult(string Model, double[] CsLosses, double[] PyLosses, double MaxLossDiff, double MaxParamDiff, int Differing, int Tensors)
{
    /// <summary>The bench's <c>verify</c> line.</summary>
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        var losses = string.Join(", ", CsLosses.Zip(PyLosses, (a, b) => string.Create(inv, $"{a:F6}/{b:F6}")));
        return string.Create(inv,
            $"verify {Model}: {CsLosses.Length} steps from PyTorch's initial weights and batch: losses C#/PyTorch [{losses}], max |dloss| {MaxLossDiff:G3}; final params max |d| {MaxParamDiff:G3} ({Differing} of {Tensors} tensors not bit-identical)");
    }
}
