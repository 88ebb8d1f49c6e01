using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

/// <summary>
/// <c>--vit192</c>: training throughput of bench's vit192 (the registry's <c>vit_small_fm28</c>: D 192, depth 6, 3 heads,
/// patch 4 on Fashion-MNIST) at a global batch of 128, as 2 ranks × 1 thread (<c>reproduce launch</c>, batch 64 per
/// rank, DDP over Gloo) against 1 process × 2 threads (batch 128); each through the CLI, img/s read from rank 0's last
/// progress line (the training loop alone: start-up and the final evaluation are outside it). Rounds alternate.
/// </summary>
internal static partial class Vit192Bench
{
    public static int Run(string root, int steps, int rounds)
    {
        var inv = CultureInfo.InvariantCulture;
        var dir = Path.Combine(Path.GetTempPath(), "reproduce-vit192-" + Environment.ProcessId);
        try
        {
            string[] Train(string outDir, int batch, int threads) =>
            [
                "train", "--config", "configs/fashion-mnist-vit-tiny.json", "--set", "model.name=vit_small_fm28", "--set", $"data.batch_size={batch}",
                "--set", $"optim.steps={steps}", "--set", "data.eval_limit=100", "--set", "checkpoint.every_steps=0", "--threads", $"{threads}", "--out", outDir,
            ];
            var two = new List<double>();
            var one = new List<double>();
            for (var r = 0; r < rounds; r++)
            {
                double Two() => ImagesPerSecond(root, ["launch", "--nproc-per-node", "2", "--", .. Train(Path.Combine(dir, $"two{r}"), 64, 1)]);
                double One() => ImagesPerSecond(root, Train(Path.Combine(dir, $"one{r}"), 128, 2));
                if (r % 2 == 0) { two.Add(Two()); one.Add(One()); }
                else { one.Add(One()); two.Add(Two()); }
                Console.Error.WriteLine(string.Create(inv, $"  round {r + 1}: 2 ranks x 1 thread {two[^1]:F1} img/s, 1 rank x 2 threads {one[^1]:F1} img/s"));
            }
            double Median(List<double> xs) { var a = xs.Order().ToArray(); return a[a.Length / 2]; }
            var (t, o) = (Median(two), Median(one));
            Console.WriteLine(string.Create(inv, $"vit192 training, global batch 128, {steps} steps, median of {rounds} rounds (rank 0's img/s over the training loop)"));
            Console.WriteLine(string.Create(inv, $"vit192: 2 ranks x 1 thread {t:F2} img/s, 1 rank x 2 threads {o:F2} img/s, ratio {t / o:F3}"));
            return 0;
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static double ImagesPerSecond(string root, string[] arguments)
    {
        var psi = new ProcessStartInfo(Path.Combine(root, "reproduce")) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["REPRODUCE_THREADS"] = "1";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start ./reproduce");
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var text = stdout + stderr.Result;
        if (p.ExitCode != 0) throw new InvalidOperationException($"./reproduce {string.Join(' ', arguments)} failed ({p.ExitCode}):\n{text}");
        var last = Rate().Matches(text).LastOrDefault() ?? throw new InvalidOperationException($"no img/s progress line in:\n{text}");
        return double.Parse(last.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"([0-9.]+) img/s")]
    private static partial Regex Rate();
}
