using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Data.Loading;
using Reproduce.Vision.Data.Transforms;

/// <summary>
/// <c>--loader</c>: whole-loader throughput over an ImageNet-style JPEG tree (ROOT/train/&lt;wnid&gt;/*.JPEG): decode,
/// RandomResizedCrop(224) + flip + RandAugment rand-m9-mstd0.5-inc1 + normalise, collated into [B,3,224,224] batches,
/// at 1 and 2 workers — Reproduce's DataLoader (worker threads) against torch.utils.data.DataLoader with PIL
/// (worker processes, bench/loader_bench.py), alternating sides each round, medians printed with their ratio.
/// </summary>
internal static class LoaderBench
{
    public static int Run(string[] files, string dir, int batch, int passes, int rounds)
    {
        var inv = CultureInfo.InvariantCulture;
        var root = Path.Combine(dir, "tree");
        for (var k = 0; k < files.Length; k++)
        {
            var wnid = Path.Combine(root, "train", $"n{k % 4:D8}");
            Directory.CreateDirectory(wnid);
            File.Copy(files[k], Path.Combine(wnid, $"img_{k:D4}.JPEG"));
        }
        var script = Path.Combine(Path.GetDirectoryName(FindScript())!, "loader_bench.py");
        Console.WriteLine(string.Create(inv, $"loader-bench: {files.Length} JPEGs in {root}/train (4 classes), batch {batch}, {passes} passes per round, {rounds} rounds, 1 intra-op thread per worker, medians"));
        Console.WriteLine("pipeline: decode RGB, RandomResizedCrop(224), hflip 0.5, RandAugment rand-m9-mstd0.5-inc1, to float, normalise, collate");
        Console.WriteLine("  csharp: Reproduce.Vision DataLoader (worker threads, ordered bounded prefetch); pytorch: torch DataLoader (worker processes) + PIL ops as timm's auto_augment.py (no torchvision)");
        Console.WriteLine("workers | csharp img/s | pytorch img/s | ratio");
        foreach (var workers in new[] { 1, 2 })
        {
            var cs = new List<double>();
            var py = new List<double>();
            for (var r = 0; r < rounds; r++)
            {
                if (r % 2 == 0) { cs.Add(RunCSharp(root, workers, batch, passes)); py.Add(RunPython(script, root, workers, batch, passes)); }
                else { py.Add(RunPython(script, root, workers, batch, passes)); cs.Add(RunCSharp(root, workers, batch, passes)); }
                Console.Error.WriteLine(string.Create(inv, $"  workers {workers} round {r + 1}: csharp {cs[^1]:F1} img/s, pytorch {py[^1]:F1} img/s"));
            }
            var (c, p) = (Median(cs), Median(py));
            Console.WriteLine(string.Create(inv, $"{workers} | {c:F2} | {p:F2} | {c / p:F3}"));
        }
        return 0;
    }

    private static double Median(List<double> xs)
    {
        var a = xs.Order().ToArray();
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }

    private static double RunCSharp(string root, int workers, int batch, int passes)
    {
        var folder = new ImageNetFolder(root, "train");
        var transform = new ClassificationTrainTransform(224)
        {
            Crop = new RandomResizedCrop(224), AutoAugment = RandAugment.Parse("rand-m9-mstd0.5-inc1"), ColorJitter = null, Erasing = null,
        };
        var loader = new DataLoader<TransformSample, TensorBatch>(folder.Count, (i, rng) =>
        {
            var s = folder.Load(i);
            return transform.Apply(new TransformSample(s.Image) { Label = s.Label }, rng);
        }, (samples, info) => Collate.Classification(samples, info), new LoaderOptions
        {
            BatchSize = batch, Workers = workers, Prefetch = 2 * workers, LastBatch = LastBatch.Drop, Seed = 1,
        });
        foreach (var b in loader.Epoch(0)) { b.Dispose(); break; } // warm up
        var sw = Stopwatch.StartNew();
        long n = 0;
        for (var p = 0; p < passes; p++)
            foreach (var b in loader.Epoch(p + 1))
            {
                n += b["image"].Size(0);
                b.Dispose();
            }
        return n / sw.Elapsed.TotalSeconds;
    }

    private static double RunPython(string script, string root, int workers, int batch, int passes)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, Path.Combine(root, "train"), workers.ToString(CultureInfo.InvariantCulture), batch.ToString(CultureInfo.InvariantCulture), passes.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start /usr/bin/python3");
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{script} failed ({p.ExitCode}): {stderr.Trim()}\nIt needs python3-torch, python3-pil and python3-numpy");
        return JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement.GetProperty("imgs").GetDouble();
    }

    private static string FindScript()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "bench", "pil_bench.py");
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException("bench/pil_bench.py not found above " + AppContext.BaseDirectory);
    }
}
