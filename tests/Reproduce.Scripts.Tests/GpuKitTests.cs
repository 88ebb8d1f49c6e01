using System.Diagnostics;
using System.Text.Json;

namespace Reproduce.Scripts.Tests;

/// <summary>
/// The GPU kit's check program (tools/gpu/Reproduce.GpuKit, built with the solution) in <c>--cpu</c> mode against the
/// checkout's native library, at tiny sizes (bench vit192 at batch 2, one training-parity step, world sizes 1 and 2):
/// every check passes against Debian's PyTorch, and both report files name what ran. The full path (bundle, native
/// build, run.sh) is what <c>tools/gpu/run.sh --cpu OUT</c> runs; docs/gpu.md.
/// </summary>
public class GpuKitTests
{
    private static readonly string Dll = Path.Combine(FsiRunner.RepoRoot, "tools", "gpu", "Reproduce.GpuKit", "bin", "Release", "net10.0", "Reproduce.GpuKit.dll");

    private static FsiResult Kit(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = FsiRunner.RepoRoot };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the kit");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("the GPU kit did not finish in 5 minutes");
        }
        return new FsiResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void CpuModePassesEveryCheckAndWritesBothReports()
    {
        using var tmp = new TempDir();
        var r = Kit("--cpu", "--out", tmp.Path, "--python", "/usr/bin/python3", "--models", "vit192", "--batch", "2",
            "--warmup", "1", "--steps", "1", "--rounds", "1", "--parity-steps", "1", "--world", "2");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var json = JsonDocument.Parse(File.ReadAllText(tmp["report.json"]));
        var root = json.RootElement;
        Assert.True(root.GetProperty("passed").GetBoolean(), r.ToString());
        var checks = root.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();
        foreach (var op in new[] { "elementwise", "reduce", "matmul", "linear", "conv2d", "softmax", "layer_norm", "batch_norm", "cross_entropy", "attention", "adamw", "sgd" })
            Assert.Contains($"{op} (vs PyTorch on cpu)", checks);
        Assert.Contains("fp32 ViT training steps (vs PyTorch on cpu)", checks);
        Assert.Contains("bf16 autocast ViT training steps (vs PyTorch on cpu)", checks);
        Assert.Contains("gloo world size 1 (all-reduce, broadcast)", checks);
        Assert.Contains("gloo world size 2 (all-reduce, broadcast)", checks);
        var bench = Assert.Single(root.GetProperty("bench").EnumerateArray());
        Assert.Equal("vit192", bench.GetProperty("model").GetString());
        Assert.True(bench.GetProperty("csharp_img_s").GetDouble() > 0 && bench.GetProperty("pytorch_img_s").GetDouble() > 0, bench.ToString());
        Assert.True(bench.GetProperty("mfu_csharp").GetDouble() > 0 && bench.GetProperty("peak_bytes_csharp").GetDouble() > 0 && bench.GetProperty("peak_bytes_pytorch").GetDouble() > 0, bench.ToString());
        Assert.True(root.GetProperty("matmul").GetProperty("gflops").GetDouble() > 0);
        var md = File.ReadAllText(tmp["report.md"]);
        Assert.StartsWith("# GPU kit report: passed", md, StringComparison.Ordinal);
        Assert.Matches(@"bench vit192: csharp [\d.]+ img/s, pytorch [\d.]+ img/s, ratio [\d.]+", md);
        Assert.Contains("gloo world size 2", md, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp["work"]), "the kit's work folder is left behind");
    }

    [Fact]
    public void WithoutCudaOrWithBadArgumentsItFailsClearlyAndWritesNothing()
    {
        using var tmp = new TempDir();
        var noCuda = Kit("--out", tmp["gpu"]);
        Assert.True(noCuda.ExitCode == 2, noCuda.ToString());
        Assert.Contains("no CUDA device is visible to libtorch", noCuda.Stderr, StringComparison.Ordinal);
        Assert.Contains("run with --cpu", noCuda.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(tmp["gpu/report.json"]));

        var noOut = Kit("--cpu");
        Assert.True(noOut.ExitCode == 2, noOut.ToString());
        Assert.Contains("--out DIR is required", noOut.Stderr, StringComparison.Ordinal);

        var badSteps = Kit("--cpu", "--out", tmp["x"], "--steps", "zero");
        Assert.True(badSteps.ExitCode == 2, badSteps.ToString());
        Assert.Contains("--steps expects a positive integer, got 'zero'", badSteps.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp["x"]));
    }
}
