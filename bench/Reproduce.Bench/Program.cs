using System.Runtime.InteropServices;
using System.Globalization;
using Reproduce.Bench;
using Reproduce.Torch;

var inv = CultureInfo.InvariantCulture;
Options opt;
try
{
    opt = Options.Parse(args);
}
catch (HelpRequested)
{
    Console.WriteLine(Options.Usage);
    return 0;
}
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(Options.Usage);
    return 2;
}

var script = opt.ResolveScript();
// The C# side runs with Reproduce.Torch's own malloc policy, as every user gets it; glibc defaults
// there need REPRODUCE_MALLOC=default in the environment before start-up.
var csTuned = Torch.MallocKeepsFreedMemory;
if (opt.Malloc == MallocTuning.None && csTuned)
{
    Console.Error.WriteLine("--malloc none: start the bench with REPRODUCE_MALLOC=default so Reproduce.Torch keeps glibc's defaults");
    return 2;
}
var pyEnv = opt.Malloc == MallocTuning.Both ? Torch.MallocPolicyEnvironment : null;
Torch.NumThreads = opt.Threads; // libtorch intra-op threads and OpenBLAS's pool
var blas = NativeLibrary.TryLoad("libopenblas.so.0", out _);
Console.WriteLine(string.Create(inv, $"libtorch {Torch.Version}; {opt.Threads} threads per side (intra-op; OpenBLAS pool {(blas ? "pinned too" : "not found")}); {Environment.ProcessorCount} cores, load average {LoadAverage()}"));
Console.WriteLine(string.Create(inv, $"method: {opt.Rounds} rounds; each round a fresh model per side, warmup, then timed steps interleaved C#/PyTorch (first side alternating); img/s per round = batch*steps/sum(step time); medians over rounds"));
Console.WriteLine("malloc: " + (csTuned ? "C# process: Reproduce.Torch default, keeps freed memory (mallopt: mmap threshold 32 MiB, trim threshold 1 GiB, top pad 64 MiB)" : "C# process: glibc defaults (REPRODUCE_MALLOC=default)")
    + (pyEnv is null ? "; PyTorch process: glibc defaults" : "; PyTorch process: the same via MALLOC_*_ environment variables"));
var mm = Runtime.MatmulGflops();
Console.WriteLine(string.Create(inv, $"mm2048: {mm:F2} GFLOP/s (C# Tensor.Mm, float32 2048x2048 @ 2048x2048, 2*n^3 FLOPs, best of 5)"));
if (opt.Overhead > 0)
{
    var (csAdd, csLinear) = Overhead.CSharp(opt.Overhead);
    var (pyAdd, pyLinear) = PyTorch.Overhead(opt.Python, script, opt.Threads, opt.Overhead);
    Console.WriteLine(string.Create(inv, $"overhead: add 1-elem csharp {csAdd:F2} us/op, pytorch {pyAdd:F2} us/op; linear 8x16 with autograd csharp {csLinear:F2} us/op, pytorch {pyLinear:F2} us/op"));
}
foreach (var name in opt.Verify ? opt.Models : [])
    Console.WriteLine(Verify.Run(opt.Python, script, BenchModel.Get(name), opt.Threads, 3, opt.Seed));
Console.WriteLine("flops: train step = 3 x forward matmul/conv FLOPs; forward/img = 2*P*C*p^2*D + depth*(2*T*D*3D + 4*T^2*D + 2*T*D^2 + 4*T*D*Hmlp) + 2*D*K");

foreach (var name in opt.Models)
{
    var bm = BenchModel.Get(name);
    var warmup = opt.Warmup ?? bm.DefaultWarmup;
    var steps = opt.Steps ?? bm.DefaultSteps;
    var rates = new Dictionary<string, List<double>> { ["C#"] = [], ["PyTorch"] = [] };
    for (var r = 0; r < opt.Rounds; r++)
    {
        var trainers = new List<ITrainer>();
        try
        {
            // Build (and warm up) the sides one after the other, the first one alternating by round.
            foreach (var side in r % 2 == 0 ? new[] { "C#", "PyTorch" } : ["PyTorch", "C#"])
                trainers.Add(side == "C#"
                    ? CSharpTrainer.Create(bm, warmup, opt.Seed)
                    : new PyTorchTrainer(opt.Python, script, bm, opt.Threads, warmup, opt.Seed, pyEnv));
            var results = trainers.ToDictionary(t => t.Side, _ => new List<StepResult>());
            for (var i = 0; i < steps; i++)
                foreach (var t in i % 2 == 0 ? trainers : Enumerable.Reverse(trainers))
                    results[t.Side].Add(t.Step());
            foreach (var (side, rs) in results)
            {
                var rate = bm.Batch * rs.Count / rs.Sum(x => x.Seconds);
                rates[side].Add(rate);
                var u = rs.Aggregate(default(Usage), (a, x) => a.Plus(x.Usage)).Over(rs.Count);
                Console.Error.WriteLine(string.Create(inv,
                    $"  {name} round {r + 1} {side,-7}: {rate,8:F2} img/s  steps [{string.Join(", ", rs.Select(x => x.Seconds.ToString("F2", inv)))}] s; per step user {u.UserSeconds:F2} s, sys {u.SystemSeconds:F2} s, {u.MinorFaults:F0} minor faults; loss {rs[^1].Loss:F4}; load {LoadAverage()}"));
            }
        }
        finally
        {
            foreach (var t in trainers) t.Dispose();
        }
    }
    var x = Median(rates["C#"]);
    var y = Median(rates["PyTorch"]);
    Console.WriteLine(string.Create(inv, $"bench {name}: csharp {x:F2} img/s, pytorch {y:F2} img/s, ratio {x / y:F3}"));
    var flops = bm.TrainFlopsPerImage();
    Console.WriteLine(string.Create(inv,
        $"gflops {name}: csharp {x * flops / 1e9:F2} GFLOP/s ({x * flops / 1e9 / mm:P1} of mm2048), pytorch {y * flops / 1e9:F2} GFLOP/s ({y * flops / 1e9 / mm:P1}); {flops / 1e9:F3} GFLOP per image per train step, batch {bm.Batch}"));
}
return 0;

static double Median(IEnumerable<double> xs)
{
    var a = xs.Order().ToArray();
    return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
}

static string LoadAverage()
{
    try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
    catch (IOException) { return "?"; }
}
