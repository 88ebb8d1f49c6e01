// Decode + augment throughput per core: Reproduce (libjpeg-turbo through src/native, tensor transforms)
// against Debian's python3-pil + torchvision on the same generated ImageNet-sized JPEGs, side by side.
// Usage: dotnet run -c Release --project bench/Reproduce.DataBench -- [--images N] [--passes N] [--rounds N] [--loader [--batch N]]
// --loader: whole-loader throughput at 1 and 2 workers against torch's DataLoader + PIL instead (LoaderBench.cs).
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Vision.Data.Transforms;

var inv = CultureInfo.InvariantCulture;
int images = 48, passes = 2, rounds = 3, batch = 16;
var loaderMode = false;
for (var i = 0; i < args.Length; i++)
{
    int Next() => i + 1 < args.Length && int.TryParse(args[++i], out var v) && v > 0
        ? v : throw new ArgumentException($"{args[i - 1]} needs a positive integer");
    switch (args[i])
    {
        case "--images": images = Next(); break;
        case "--passes": passes = Next(); break;
        case "--rounds": rounds = Next(); break;
        case "--batch": batch = Next(); break;
        case "--loader": loaderMode = true; break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'; flags: --images N --passes N --rounds N --loader --batch N");
            return 2;
    }
}

Torch.NumThreads = 1; // per core: one thread on each side
var dir = Path.Combine(Path.GetTempPath(), "reproduce-databench-" + Environment.ProcessId);
Directory.CreateDirectory(dir);
try
{
    var files = Generate(dir, images);
    if (loaderMode) return LoaderBench.Run(files, dir, batch, passes, rounds);
    var script = FindScript();
    Console.WriteLine(string.Create(inv, $"data-bench: {images} generated JPEGs (500x375 and 375x500, quality 90, 4:2:0), {passes} passes per round, {rounds} rounds, 1 thread per side, medians"));
    Console.WriteLine("pipeline: decode to RGB, RandomResizedCrop(224, scale 0.08-1, ratio 3/4-4/3, bilinear), horizontal flip p=0.5, to float, ImageNet normalisation");
    Console.WriteLine("  csharp: ImageCodec (libjpeg-turbo) + Reproduce.Vision tensor transforms; pytorch: PIL.Image.open().convert('RGB') + torchvision.transforms (PIL path)");
    var cs = new List<(double Decode, double Full)>();
    var py = new List<(double Decode, double Full)>();
    for (var r = 0; r < rounds; r++)
    {
        // Alternate which side runs first so background load hits both alike.
        if (r % 2 == 0) { cs.Add(RunCSharp(files, passes, r)); py.Add(RunPython(script, dir, passes, r)); }
        else { py.Add(RunPython(script, dir, passes, r)); cs.Add(RunCSharp(files, passes, r)); }
        Console.Error.WriteLine(string.Create(inv, $"  round {r + 1}: csharp decode {cs[^1].Decode:F1} full {cs[^1].Full:F1} img/s; pytorch decode {py[^1].Decode:F1} full {py[^1].Full:F1} img/s"));
    }
    double Median(IEnumerable<double> xs) { var a = xs.OrderBy(x => x).ToArray(); return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2; }
    var (cd, cf) = (Median(cs.Select(x => x.Decode)), Median(cs.Select(x => x.Full)));
    var (pd, pf) = (Median(py.Select(x => x.Decode)), Median(py.Select(x => x.Full)));
    Console.WriteLine(string.Create(inv, $"data-bench decode: csharp {cd:F2} img/s, pytorch {pd:F2} img/s, ratio {cd / pd:F3}"));
    Console.WriteLine(string.Create(inv, $"data-bench decode+augment: csharp {cf:F2} img/s, pytorch {pf:F2} img/s, ratio {cf / pf:F3}"));
    return 0;
}
finally
{
    Directory.Delete(dir, recursive: true);
}

// Smooth gradients plus deterministic texture, so the JPEGs compress like photographs rather than noise.
static string[] Generate(string dir, int n)
{
    var files = new string[n];
    for (var k = 0; k < n; k++)
    {
        using var s = Scope.Enter();
        var (h, w) = k % 3 == 2 ? (500, 375) : (375, 500);
        var px = new byte[3 * h * w];
        var rng = new Random(k);
        double fx = rng.NextDouble() * 0.05, fy = rng.NextDouble() * 0.05, phase = rng.NextDouble() * 6;
        for (var c = 0; c < 3; c++)
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                {
                    var v = 128 + 60 * Math.Sin(fx * x + phase * (c + 1)) + 50 * Math.Cos(fy * y + c) + 12 * Math.Sin(0.9 * x * y / (w + 1.0));
                    px[(c * h + y) * w + x] = (byte)Math.Clamp(v + rng.Next(-6, 7), 0, 255);
                }
        var img = Tensor.From<byte>(px, [3, h, w]);
        files[k] = Path.Combine(dir, $"img_{k:D4}.jpg");
        ImageCodec.SaveJpeg(files[k], img, quality: 90);
    }
    return files;
}

static (double Decode, double Full) RunCSharp(string[] files, int passes, int round)
{
    var crop = new RandomResizedCrop(224);
    var bytes = files.Select(File.ReadAllBytes).ToArray(); // both sides read from the page cache; time decoding, not disk
    double Time(bool augment)
    {
        var rng = new Random(round);
        var sw = Stopwatch.StartNew();
        for (var p = 0; p < passes; p++)
            foreach (var b in bytes)
            {
                using var s = Scope.Enter();
                var img = ImageCodec.Decode(b);
                if (!augment) continue;
                var sample = crop.Apply(new TransformSample(img), rng);
                var x = rng.NextDouble() < 0.5 ? Geometry.HFlip(sample.Image) : sample.Image;
                Normalize.Apply(x);
            }
        return passes * bytes.Length / sw.Elapsed.TotalSeconds;
    }
    Time(true); // warm up op caches
    return (Time(false), Time(true));
}

static (double Decode, double Full) RunPython(string script, string dir, int passes, int round)
{
    var psi = new ProcessStartInfo("/usr/bin/python3", $"\"{script}\" \"{dir}\" {passes} {round}") { RedirectStandardOutput = true, RedirectStandardError = true };
    using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start /usr/bin/python3");
    var stdout = p.StandardOutput.ReadToEnd();
    var stderr = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0)
        throw new InvalidOperationException($"{script} failed ({p.ExitCode}): {stderr.Trim()}\nInstall the reference with: apt-get install python3-pil python3-torchvision");
    var doc = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
    return (doc.GetProperty("decode").GetDouble(), doc.GetProperty("full").GetDouble());
}

static string FindScript()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
    {
        var p = Path.Combine(d.FullName, "bench", "pil_bench.py");
        if (File.Exists(p)) return p;
    }
    throw new FileNotFoundException("bench/pil_bench.py not found above " + AppContext.BaseDirectory);
}
