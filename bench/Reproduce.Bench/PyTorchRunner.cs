using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Reproduce.Bench;

/// <summary>The PyTorch side: runs bench/pytorch_bench.py in a child process and reads its RESULT line.</summary>
internal static class PyTorchRunner
{
    public static RunResult Run(string python, string script, BenchModel bm, int threads, int warmup, int steps, ulong seed)
    {
        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { script, "--model", bm.Name, "--threads", threads.ToString(CultureInfo.InvariantCulture),
                     "--warmup", warmup.ToString(CultureInfo.InvariantCulture), "--steps", steps.ToString(CultureInfo.InvariantCulture),
                     "--seed", seed.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {python}");
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = stdout.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        if (p.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"{python} {script} --model {bm.Name} failed (exit {p.ExitCode}):\n{stdout}\n{stderr.Result}");
        using var doc = JsonDocument.Parse(line["RESULT ".Length..]);
        var r = doc.RootElement;
        return new RunResult(r.GetProperty("img_per_s").GetDouble(),
            r.GetProperty("step_s").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
            r.GetProperty("last_loss").GetDouble());
    }
}
