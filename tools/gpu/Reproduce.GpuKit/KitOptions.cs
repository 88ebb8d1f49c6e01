using System.Globalization;

namespace Reproduce.GpuKit;

/// <summary>
/// The kit's command line. Without <c>--cpu</c> it runs on <c>cuda:0</c> with the GPU sizes (bf16 bench, batch 128
/// for the small models and 64 for ViT-B/16); with <c>--cpu</c> on the CPU in float32 with a tiny bench so it finishes
/// in minutes on a laptop. The bench sizes and step counts can be overridden (tests use tiny ones).
/// </summary>
internal sealed record KitOptions
{
    public const string Usage =
        "usage: Reproduce.GpuKit [--cpu] --out DIR [--python PY] [--scripts DIR] [--budget-s S] [--models a,b] [--img N] [--batch N]\n" +
        "                        [--warmup N] [--steps N] [--rounds N] [--parity-steps N] [--world N]";

    public required string Out { get; init; }
    public bool Cpu { get; init; }
    public string Python { get; init; } = "python3";
    public string? Scripts { get; init; }
    public double BudgetSeconds { get; init; } = 540;
    public IReadOnlyList<string> Models { get; init; } = ["vit_s16", "vit_b16", "lvvit_s"];
    public int? Img { get; init; }
    public int? Batch { get; init; }
    public int? Warmup { get; init; }
    public int? Steps { get; init; }
    public int? Rounds { get; init; }
    public int ParitySteps { get; init; } = 3;
    /// <summary>Largest world size of the process-group check (the device count caps it on a GPU).</summary>
    public int World { get; init; } = 2;

    public static KitOptions Parse(string[] args)
    {
        var inv = CultureInfo.InvariantCulture;
        string? outDir = null;
        var o = new KitOptions { Out = "" };
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() { var n = Next(); return int.TryParse(n, NumberStyles.Integer, inv, out var v) && v > 0 ? v : throw new ArgumentException($"{args[i - 1]} expects a positive integer, got '{n}'"); }
            o = args[i] switch
            {
                "--cpu" => o with { Cpu = true },
                "--out" => o with { Out = outDir = Next() },
                "--python" => o with { Python = Next() },
                "--scripts" => o with { Scripts = Next() },
                "--budget-s" => o with { BudgetSeconds = Int() },
                "--models" => o with { Models = Next().Split(',', StringSplitOptions.RemoveEmptyEntries) },
                "--img" => o with { Img = Int() },
                "--batch" => o with { Batch = Int() },
                "--warmup" => o with { Warmup = Int() },
                "--steps" => o with { Steps = Int() },
                "--rounds" => o with { Rounds = Int() },
                "--parity-steps" => o with { ParitySteps = Int() },
                "--world" => o with { World = Int() },
                var a => throw new ArgumentException($"unknown option '{a}'"),
            };
        }
        return outDir is null ? throw new ArgumentException("--out DIR is required") : o;
    }

    /// <summary>The bench's warmup steps, timed steps and rounds: 1, 2, 1 on the CPU; 3, 10, 2 on a GPU; unless given.</summary>
    public int BenchWarmup => Warmup ?? (Cpu ? 1 : 3);
    public int BenchSteps => Steps ?? (Cpu ? 2 : 10);
    public int BenchRounds => Rounds ?? (Cpu ? 1 : 2);

    /// <summary>The bench's batch: tiny on the CPU, 128 (64 for ViT-B/16) on a GPU, unless given.</summary>
    public int BenchBatch(string model) => Batch ?? (Cpu ? 2 : model == "vit_b16" ? 64 : 128);

    /// <summary>
    /// A script the kit runs: beside the published program (<c>bin/../python/NAME</c>, the bundle's layout) or, in a
    /// checkout, at its place in the repository (<paramref name="repoPath"/>).
    /// </summary>
    public string Script(string name, string repoPath)
    {
        var candidates = new List<string>();
        if (Scripts is not null) candidates.Add(Path.Combine(Scripts, name));
        candidates.Add(Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "python", name)));
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, repoPath))) { candidates.Add(Path.Combine(dir.FullName, repoPath)); break; }
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"{name} not found (looked in {string.Join(", ", candidates)}); pass --scripts DIR");
    }
}
