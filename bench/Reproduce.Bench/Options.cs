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
    /// <summary>Also time this many tiny ops per side (per-op dispatch overhead); 0: skip.</summary>
    public int Overhead { get; init; }
    /// <summary>Which processes get glibc malloc tuned to keep freed memory (see <see cref="Reproduce.Torch.Torch.MallocKeepsFreedMemory"/>).</summary>
    public MallocTuning Malloc { get; init; } = MallocTuning.CSharp;
    /// <summary>First check, per model, that both sides train identically from the same weights.</summary>
    public bool Verify { get; init; }

    public const string Usage = """
        Reproduce.Bench — C# (Reproduce.Torch) vs PyTorch ViT training throughput on the CPU.
          --threads N     intra-op (and OpenBLAS) threads on both sides   [Environment.ProcessorCount]
          --steps N       timed steps per run                             [vit192 3, vit_s16 2]
          --warmup N      untimed steps per run (PyTorch heap settles in 2) [2]
          --models a,b    models to run: vit192, vit_s16                  [both]
          --rounds N      runs per side, alternating C#/PyTorch           [2]
          --python PATH   interpreter with torch                          [/usr/bin/python3]
          --script PATH   pytorch_bench.py                                [found next to the repository's bench/]
          --seed N        init/data seed                                  [0]
          --overhead N    also time N tiny ops per side (per-op overhead) [off]
          --verify        first train 3 steps per model from PyTorch's weights on both sides and compare
          --malloc M      keep freed memory in glibc malloc (no trim/remap per step) for: csharp, both, none  [csharp]
        """;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture);
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
                "--overhead" => o with { Overhead = Int() },
                "--malloc" => o with
                {
                    Malloc = Next() switch
                    {
                        "csharp" => MallocTuning.CSharp,
                        "both" => MallocTuning.Both,
                        "none" => MallocTuning.None,
                        var m => throw new ArgumentException($"--malloc {m}: expected csharp, both or none"),
                    },
                },
                "--verify" => o with { Verify = true },
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

/// <summary>Where the glibc malloc tuning applies.</summary>
internal enum MallocTuning
{
    /// <summary>Glibc defaults in both processes.</summary>
    None,
    /// <summary>Reproduce.Torch's default policy in the C# process only (PyTorch keeps its idiomatic defaults).</summary>
    CSharp,
    /// <summary>Tuned in both (the PyTorch child through glibc's MALLOC_*_ environment variables).</summary>
    Both,
}
