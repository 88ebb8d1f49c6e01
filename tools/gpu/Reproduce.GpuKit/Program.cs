using System.Diagnostics;
using System.Globalization;
using Reproduce.Bench;
using Reproduce.GpuKit;
using Reproduce.Torch;

// The GPU kit's checks (tools/gpu/run.sh builds the native layer, then runs this): op and training parity against
// PyTorch on the same device (and CUDA against the CPU), a bf16 autocast training step, the training bench with MFU and
// peak memory, and a process group; writes OUT/report.json and OUT/report.md. docs/gpu.md describes it.
if (args.Length == 3 && args[0] == DistCheck.ChildFlag) return DistCheck.Child(args[1], args[2]);

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(KitOptions.Usage);
    return 0;
}
KitOptions opt;
try
{
    opt = KitOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(KitOptions.Usage);
    return 2;
}

var inv = CultureInfo.InvariantCulture;
var clock = Stopwatch.StartNew();
TimeSpan Left() => TimeSpan.FromSeconds(opt.BudgetSeconds) - clock.Elapsed;
var report = new KitReport();
if (!opt.Cpu && !Cuda.IsAvailable)
{
    Console.Error.WriteLine($"no CUDA device is visible to libtorch {Torch.Version} (built with CUDA: {Torch.BuiltWithCuda}); run with --cpu for the CPU checks");
    return 2;
}
string benchScript, opsScript;
try
{
    benchScript = opt.Script("pytorch_bench.py", "bench/pytorch_bench.py");
    opsScript = opt.Script("ops_reference.py", "tools/gpu/ops_reference.py");
}
catch (FileNotFoundException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
var device = opt.Cpu ? Device.Cpu : Device.Cuda(0);
var work = Path.Combine(opt.Out, "work");
Directory.CreateDirectory(work);
report.Facts["mode"] = opt.Cpu ? "--cpu (float32 bench, tiny sizes; parity against PyTorch on the CPU)" : "cuda (bf16 bench)";
report.Facts["device"] = opt.Cpu ? $"cpu, {Environment.ProcessorCount} cores" : $"cuda:0 of {Cuda.DeviceCount}";
report.Facts["libtorch (C#)"] = $"{Torch.Version}{(Torch.BuiltWithCuda ? " with CUDA" : "")}";
report.Facts["python"] = opt.Python;
report.Facts["bench"] = $"{string.Join(", ", opt.Models)}; {opt.BenchWarmup} warmup and {opt.BenchSteps} timed steps per side, {opt.BenchRounds} round(s), medians";

void Step(string name, Action action)
{
    if (Left() <= TimeSpan.Zero)
    {
        report.Skipped.Add($"{name}: the {opt.BudgetSeconds:F0} s budget is spent");
        return;
    }
    var t0 = clock.Elapsed;
    Console.WriteLine($"== {name}");
    try
    {
        using var scope = Scope.Enter();
        action();
    }
    catch (Exception e)
    {
        report.Errors.Add($"{name}: {e.GetType().Name}: {e.Message}");
        Console.WriteLine($"ERROR {name}: {e.Message}");
    }
    Console.WriteLine(string.Create(inv, $"   {name}: {(clock.Elapsed - t0).TotalSeconds:F1} s"));
}

Step("op parity", () => OpsParity.Run(report, opt.Python, opsScript, device, work));
Step("fp32 training parity", () => TrainingParity.Run(report, opt, benchScript, device, bf16: false));
Step("bf16 autocast step", () => TrainingParity.Run(report, opt, benchScript, device, bf16: true));
Step("matmul rate", () =>
{
    (report.MatmulKind, report.MatmulGflops) = opt.Cpu
        ? ("float32 2048³ Mm on the CPU", Runtime.MatmulGflops(5))
        : ("bf16 8192³ Mm on cuda:0", Runtime.MatmulGflops(10, device, ScalarType.BFloat16, 8192));
    Console.WriteLine(string.Create(inv, $"matmul: {report.MatmulKind}: {report.MatmulGflops:F1} GFLOP/s"));
});
Step("bench", () => BenchRun.Run(report, opt, benchScript, device, Left));
Step("process group", () => DistCheck.Run(report, opt.Cpu, opt.World, TimeSpan.FromSeconds(Math.Clamp(Left().TotalSeconds, 10, 120))));

report.Facts["checks passed"] = $"{report.Checks.Count(c => c.Passed)} of {report.Checks.Count}";
report.Write(opt.Out, clock.Elapsed.TotalSeconds);
Directory.Delete(work, recursive: true);
Console.WriteLine($"{(report.Passed ? "passed" : "FAILED")}: {report.Checks.Count(c => c.Passed)} of {report.Checks.Count} checks, {report.Errors.Count} errors, {report.Skipped.Count} skipped; wrote {Path.Combine(opt.Out, "report.md")} and report.json");
return report.Passed ? 0 : 1;
