using System.Globalization;

namespace Reproduce.Bench;

/// <summary>Command-line flags.</summary>
internal sealed record Options
{
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>Timed steps per run; null: each model's default.</summary>
    public int? Steps { get; init; }
    /// <summary>Untimed steps before the timed ones; null: each model's default.</summary>
    public int? Warmup { get; init; }
    public IReadOnlyList<string> Models { get; init; } = BenchModel.All.Select(m => m.Name).ToList();
    public int Rounds { get; init; } = 2;
    public string Python { get; init; } = "/usr/bin/python3";
    public string? Script { get; init; }
    public ulong Seed { get; init; }

    public const string Usage = """
        Reproduce.Bench — C# (Reproduce.Torch) vs PyTorch ViT training throughput on the CPU.
          --threads N     intra-op (and OpenBLAS) threads on both sides   [Environment.ProcessorCount]
          --steps N       timed steps per run                             [vit192 3, vit_s16 2]
          --warmup N      untimed steps per run                           [1]
          --models a,b    models to run: vit192, vit_s16                  [both]
          --rounds N      runs per side, alternating C#/PyTorch           [2]
          --python PATH   interpreter with torch                          [/usr/bin/python3]
          --script PATH   pytorch_bench.py                                [found next to the repository's bench/]
          --seed N        init/data seed                                  [0]
        """;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture) is var v && v >= 0 ? v : 0;
            o = args[i] switch
            {
                "--threads" => o with { Threads = Math.Max(1, Int()) },
                "--steps" => o with { Steps = Math.Max(1, Int()) },
                "--warmup" => o with { Warmup = Int() },
                "--models" => o with { Models = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--rounds" => o with { Rounds = Math.Max(1, Int()) },
                "--python" => o with { Python = Next() },
                "--script" => o with { Script = Next() },
                "--seed" => o with { Seed = ulong.Parse(Next(), CultureInfo.InvariantCulture) },
                "--help" or "-h" => throw new HelpRequested(),
                var a => throw new ArgumentException($"unknown flag '{a}'"),
            };
        }
        foreach (var m in o.Models) BenchModel.Get(m);
        return o;
    }

    /// <summary>pytorch_bench.py: the --script flag, else bench/pytorch_bench.py above the executable.</summary>
    public string ResolveScript()
    {
        if (Script is not null) return File.Exists(Script) ? Script : throw new FileNotFoundException($"--script {Script} not found");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, "bench", "pytorch_bench.py");
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException("bench/pytorch_bench.py not found above " + AppContext.BaseDirectory + "; pass --script");
    }
}

internal sealed class HelpRequested : Exception;
