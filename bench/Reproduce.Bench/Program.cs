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
var blas = Runtime.ApplyThreads(opt.Threads);
Console.WriteLine(string.Create(inv, $"libtorch {Torch.Version}, {opt.Threads} threads (OpenBLAS pool {(blas ? "pinned too" : "not found")}), {opt.Rounds} rounds per side, alternating C#/PyTorch, medians; {Environment.ProcessorCount} cores, load {LoadAverage()}"));
var mm = Runtime.MatmulGflops();
Console.WriteLine(string.Create(inv, $"mm2048: {mm:F2} GFLOP/s (C# Tensor.Mm, float32 2048x2048x2048, best of 5)"));
Console.WriteLine("flops: train step = 3 x forward matmul/conv FLOPs; forward/img = 2*P*C*p^2*D + depth*(2*T*D*3D + 4*T^2*D + 2*T*D^2 + 4*T*D*Hmlp) + 2*D*K");

foreach (var name in opt.Models)
{
    var bm = BenchModel.Get(name);
    var warmup = opt.Warmup ?? bm.DefaultWarmup;
    var steps = opt.Steps ?? bm.DefaultSteps;
    var cs = new List<RunResult>();
    var py = new List<RunResult>();
    for (var r = 0; r < opt.Rounds; r++)
    {
        // Alternate which side goes first so slow drifts in machine load hit both alike.
        var order = r % 2 == 0 ? new[] { "C#", "PyTorch" } : ["PyTorch", "C#"];
        foreach (var side in order)
        {
            var res = side == "C#"
                ? CSharpTrainer.Run(bm, warmup, steps, opt.Seed)
                : PyTorchRunner.Run(opt.Python, script, bm, opt.Threads, warmup, steps, opt.Seed);
            (side == "C#" ? cs : py).Add(res);
            Console.Error.WriteLine(string.Create(inv,
                $"  {name} round {r + 1} {side,-7}: {res.ImagesPerSecond,8:F2} img/s  steps [{string.Join(", ", res.StepSeconds.Select(t => t.ToString("F2", inv)))}] s  loss {res.LastLoss:F4}  load {LoadAverage()}"));
        }
    }
    var x = Median(cs.Select(c => c.ImagesPerSecond));
    var y = Median(py.Select(c => c.ImagesPerSecond));
    Console.WriteLine(string.Create(inv, $"bench {name}: csharp {x:F2} img/s, pytorch {y:F2} img/s, ratio {x / y:F3}"));
    var flops = bm.TrainFlopsPerImage();
    Console.WriteLine(string.Create(inv,
        $"gflops {name}: csharp {x * flops / 1e9:F2} GFLOP/s ({x * flops / 1e9 / mm:P1} of mm2048), pytorch {y * flops / 1e9:F2} GFLOP/s ({y * flops / 1e9 / mm:P1}); {flops / 1e9:F3} GFLOP per image per step, batch {bm.Batch}"));
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
