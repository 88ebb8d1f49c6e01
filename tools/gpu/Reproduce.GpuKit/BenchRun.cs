using System.Diagnostics;
using System.Globalization;
using Reproduce.Bench;
using Reproduce.Torch;

namespace Reproduce.GpuKit;

/// <summary>
/// The training bench on the kit's device: each model in C# (<see cref="CSharpTrainer"/>) and in PyTorch eager
/// (<c>pytorch_bench.py --serve</c>), a fresh model per side and round, warmup, then timed steps alternating between
/// the two processes (bench/README.md's method); bf16 autocast on a GPU, float32 on the CPU. Also records each side's
/// peak memory: CUDA's peak allocation, or the process's peak resident set on the CPU (the C# one reset before each
/// model through /proc/self/clear_refs, after handing the memory malloc keeps back to the kernel, so that an earlier
/// model's freed memory does not count).
/// </summary>
internal static partial class BenchRun
{
    [System.Runtime.InteropServices.LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run(KitReport report, KitOptions opt, string script, Device device, Func<TimeSpan> left)
    {
        var bf16 = device.IsCuda;
        var threads = Environment.ProcessorCount;
        foreach (var name in opt.Models)
        {
            var bm = BenchModel.Get(name).Resized(opt.Img, opt.BenchBatch(name));
            var (warmup, steps, rounds) = (opt.BenchWarmup, opt.BenchSteps, opt.BenchRounds);
            if (left() < TimeSpan.FromSeconds(opt.Cpu ? 20 : 60))
            {
                report.Skipped.Add($"bench {name}: {left().TotalSeconds:F0} s of the time budget left");
                continue;
            }
            var rates = new Dictionary<string, List<double>> { ["C#"] = [], ["PyTorch"] = [] };
            double csPeak = 0, pyPeak = 0;
            for (var r = 0; r < rounds; r++)
            {
                ResetPeak(device);
                var trainers = new List<ITrainer>();
                try
                {
                    foreach (var side in r % 2 == 0 ? new[] { "C#", "PyTorch" } : ["PyTorch", "C#"])
                        trainers.Add(side == "C#"
                            ? CSharpTrainer.Create(bm, warmup, 0, device, bf16)
                            : new PyTorchTrainer(opt.Python, script, bm, threads, warmup, 0, null, device, bf16));
                    var results = trainers.ToDictionary(t => t.Side, _ => new List<StepResult>());
                    for (var i = 0; i < steps; i++)
                        foreach (var t in i % 2 == 0 ? trainers : Enumerable.Reverse(trainers))
                            results[t.Side].Add(t.Step());
                    foreach (var (side, rs) in results)
                    {
                        rates[side].Add(bm.Batch * rs.Count / rs.Sum(x => x.Seconds));
                        Console.Error.WriteLine(string.Create(Inv,
                            $"  {name} round {r + 1} {side,-7}: {rates[side][^1],8:F2} img/s  steps [{string.Join(", ", rs.Select(x => x.Seconds.ToString("F3", Inv)))}] s; loss {rs[^1].Loss:F4}"));
                    }
                    csPeak = Math.Max(csPeak, Peak(device));
                    pyPeak = Math.Max(pyPeak, trainers.OfType<PyTorchTrainer>().Single().PeakBytes);
                }
                finally
                {
                    foreach (var t in trainers) t.Dispose();
                }
            }
            var row = new BenchRow(name, bm.Config.ImgSize, bm.Batch, bf16, Median(rates["C#"]), Median(rates["PyTorch"]), bm.TrainFlopsPerImage(),
                report.MatmulGflops, csPeak, pyPeak);
            report.Bench.Add(row);
            Console.WriteLine(row.Line);
            Console.WriteLine(string.Create(Inv, $"mfu {name}: csharp {row.CsMfu:P1}, pytorch {row.PyMfu:P1} of {report.MatmulKind}; peak memory csharp {csPeak / 1048576:F0} MiB, pytorch {pyPeak / 1048576:F0} MiB"));
        }
    }

    private static void ResetPeak(Device device)
    {
        if (device.IsCuda)
        {
            Cuda.EmptyCache();
            Cuda.ResetPeakMemoryStats(device.Index < 0 ? 0 : device.Index);
            return;
        }
        try
        {
            MallocTrim(0);
            File.WriteAllText("/proc/self/clear_refs", "5"); // resets VmHWM to the current resident set
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or EntryPointNotFoundException) { }
    }

    private static double Peak(Device device)
    {
        if (device.IsCuda) return Cuda.MemoryStats(device.Index < 0 ? 0 : device.Index).PeakAllocated;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], Inv) * 1024;
    }

    private static double Median(IEnumerable<double> xs)
    {
        var a = xs.Order().ToArray();
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }
}
