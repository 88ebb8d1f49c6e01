// Gloo all-reduce bandwidth, 2 processes on loopback: Reproduce's c10d binding vs Debian's python3-torch
// torch.distributed (same libtorch, same Gloo), side by side with ratios.
//   dotnet run --project bench/Reproduce.DistBench -c Release [-- --sizes-mb 1,4,16,64,256 --reps 5]
//   ... -- --vit192 [--steps 30 --rounds 3]: vit192 training, 2 ranks x 1 thread vs 1 rank x 2 threads (Vit192Bench.cs)
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Reproduce.Torch;
using Reproduce.Torch.Distributed;

var sizes = Arg("--sizes-mb", "1,4,16,64,256").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var reps = int.Parse(Arg("--reps", "5"), CultureInfo.InvariantCulture);

if (DistEnvironment.Current is { } env) // a rank: time the all-reduces, rank 0 prints seconds per size as JSON
{
    using var g = ProcessGroup.Init(env, TimeSpan.FromSeconds(120));
    var seconds = new Dictionary<string, double>();
    foreach (var mb in sizes)
    {
        using var scope = Scope.Enter();
        var t = Torch.Ones([mb * 1024L * 1024 / 4]);
        using (var w = g.AllReduce(t)) w.Wait(); // warm-up
        var times = new List<double>();
        for (var r = 0; r < reps; r++)
        {
            g.Barrier();
            var clock = Stopwatch.StartNew();
            using (var w = g.AllReduce(t)) w.Wait();
            times.Add(clock.Elapsed.TotalSeconds);
        }
        seconds[mb.ToString(CultureInfo.InvariantCulture)] = times.Order().ElementAt(times.Count / 2);
    }
    if (g.Rank == 0) Console.WriteLine(JsonSerializer.Serialize(seconds));
    return 0;
}

var root = FindRoot();
if (args.Contains("--vit192"))
    return Vit192Bench.Run(root, int.Parse(Arg("--steps", "30"), CultureInfo.InvariantCulture), int.Parse(Arg("--rounds", "3"), CultureInfo.InvariantCulture));
var self = Environment.ProcessPath!;
string[] selfArgs = Path.GetFileNameWithoutExtension(self) == "dotnet" ? [typeof(Program).Assembly.Location, .. args] : args;
var ours = Parse(RunPair(self, selfArgs));
var torch = Parse(RunPair("/usr/bin/python3", [Path.Combine(root, "bench", "dist_allreduce.py"), string.Join(',', sizes), reps.ToString(CultureInfo.InvariantCulture)]));
Console.WriteLine($"Gloo all-reduce (sum, float32), 2 processes on loopback, median of {reps}; bus bandwidth = size / time");
Console.WriteLine($"{"MB",6} {"Reproduce ms",14} {"PyTorch ms",12} {"Reproduce GB/s",15} {"PyTorch GB/s",13} {"ratio",7}");
foreach (var mb in sizes)
{
    var (a, b) = (ours[mb], torch[mb]);
    Console.WriteLine($"{mb,6} {a * 1e3,14:0.00} {b * 1e3,12:0.00} {mb / 1024.0 / a,15:0.000} {mb / 1024.0 / b,13:0.000} {b / a,7:0.00}");
}
Console.WriteLine("ratio = PyTorch time / Reproduce time (> 1: Reproduce faster)");
return 0;

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

static Dictionary<int, double> Parse(string json) =>
    JsonSerializer.Deserialize<Dictionary<string, double>>(json)!.ToDictionary(kv => int.Parse(kv.Key, CultureInfo.InvariantCulture), kv => kv.Value);

static string RunPair(string exe, string[] arguments)
{
    int port;
    using (var l = new TcpListener(IPAddress.Loopback, 0))
    {
        l.Start();
        port = ((IPEndPoint)l.LocalEndpoint).Port;
    }
    var procs = Enumerable.Range(0, 2).Select(rank =>
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        foreach (var (k, v) in new[] { ("RANK", $"{rank}"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", $"{rank}"), ("LOCAL_WORLD_SIZE", "2"), ("MASTER_ADDR", "127.0.0.1"), ("MASTER_PORT", $"{port}"), ("REPRODUCE_THREADS", "1"), ("OMP_NUM_THREADS", "1") })
            psi.Environment[k] = v;
        return Process.Start(psi)!;
    }).ToArray();
    var output = procs[0].StandardOutput.ReadToEnd();
    foreach (var p in procs) p.WaitForExit();
    if (procs.Any(p => p.ExitCode != 0)) throw new InvalidOperationException($"{exe} {string.Join(' ', arguments)}: a rank failed");
    return output.Trim().Split('\n')[^1];
}

static string FindRoot()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "build.fsx"))) return d.FullName;
    throw new DirectoryNotFoundException("repository root not found above " + AppContext.BaseDirectory);
}
