using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Reproduce.Torch;

namespace Reproduce.Bench;

/// <summary>
/// The PyTorch side: <c>bench/pytorch_bench.py --serve</c> in a child process, which builds the same model,
/// runs the warmup steps, then runs one timed step per "step" line it reads and answers with a STEP line.
/// </summary>
internal sealed class PyTorchTrainer : ITrainer
{
    private readonly Process _p;
    private readonly Task<string> _stderr;

    public PyTorchTrainer(string python, string script, BenchModel bm, int threads, int warmup, ulong seed, IReadOnlyDictionary<string, string>? env = null,
        Device? device = null, bool bf16 = false)
    {
        _p = PyTorch.Start(python, script, env, [.. PyTorch.ModelArgs(bm, device ?? Device.Cpu, bf16), "--serve", "--threads", PyTorch.Str(threads),
            "--warmup", PyTorch.Str(warmup), "--seed", seed.ToString(CultureInfo.InvariantCulture)]);
        _stderr = _p.StandardError.ReadToEndAsync();
        Expect("READY");
    }

    public string Side => "PyTorch";

    public StepResult Step()
    {
        _p.StandardInput.WriteLine("step");
        _p.StandardInput.Flush();
        var r = Expect("STEP");
        PeakBytes = r.GetProperty("peak_bytes").GetDouble();
        return new StepResult(r.GetProperty("seconds").GetDouble(), r.GetProperty("loss").GetDouble(),
            new Usage(r.GetProperty("user_s").GetDouble(), r.GetProperty("sys_s").GetDouble(), r.GetProperty("minflt").GetDouble()));
    }

    /// <summary>
    /// The child's peak memory after its last step: <c>torch.cuda.max_memory_allocated</c> on a CUDA device, the
    /// process's peak resident set on the CPU.
    /// </summary>
    public double PeakBytes { get; private set; }

    private JsonElement Expect(string tag)
    {
        var line = _p.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith(tag + " ", StringComparison.Ordinal))
        {
            _p.WaitForExit(5000);
            throw new InvalidOperationException($"pytorch_bench.py: expected {tag}, got '{line}'; stderr:\n{(_p.HasExited ? _stderr.Result : "(still running)")}");
        }
        using var doc = JsonDocument.Parse(line[(tag.Length + 1)..]);
        return doc.RootElement.Clone();
    }

    public void Dispose()
    {
        if (!_p.HasExited)
        {
            _p.StandardInput.WriteLine("quit");
            _p.StandardInput.Flush();
            if (!_p.WaitForExit(30_000)) _p.Kill();
        }
        _p.Dispose();
    }
}

/// <summary>Starting pytorch_bench.py, and its one-shot per-op overhead mode.</summary>
internal static class PyTorch
{
    public static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>The script's arguments that pick the model, its size, the device and the precision.</summary>
    public static string[] ModelArgs(BenchModel bm, Device device, bool bf16) =>
    [
        "--model", bm.Name, "--img", Str(bm.Config.ImgSize), "--batch", Str(bm.Batch), "--device", device.ToString(),
        .. bf16 ? new[] { "--bf16" } : [],
    ];

    public static Process Start(string python, string script, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return Process.Start(psi) ?? throw new InvalidOperationException($"could not start {python}");
    }

    /// <summary>Microseconds per op of the same tiny-op loops as <c>Overhead.CSharp</c>.</summary>
    public static (double Add, double Linear) Overhead(string python, string script, int threads, int n)
    {
        var r = RunOnce(python, script, "--overhead", Str(n), "--threads", Str(threads));
        return (r.GetProperty("add_us").GetDouble(), r.GetProperty("linear_us").GetDouble());
    }

    /// <summary>Runs the script to completion and returns its RESULT object.</summary>
    public static JsonElement RunOnce(string python, string script, params string[] args)
    {
        using var p = Start(python, script, null, args);
        p.StandardInput.Close();
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = stdout.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        if (p.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"pytorch_bench.py {string.Join(' ', args)} failed (exit {p.ExitCode}):\n{stdout}\n{stderr.Result}");
        using var doc = JsonDocument.Parse(line["RESULT ".Length..]);
        return doc.RootElement.Clone();
    }
}
