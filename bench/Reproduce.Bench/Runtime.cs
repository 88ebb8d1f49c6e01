using System.Diagnostics;
using Reproduce.Torch;

namespace Reproduce.Bench;

/// <summary>The reference matmul rate.</summary>
internal static partial class Runtime
{
    /// <summary>float32 2048×2048 by 2048×2048 <c>Mm</c> rate in GFLOP/s (2·n³ per product), best of <paramref name="reps"/>.</summary>
    public static double MatmulGflops(int reps = 5)
    {
        const long n = 2048;
        using var s = Scope.Enter();
        var a = Torch.Torch.Randn([n, n]);
        var b = Torch.Torch.Randn([n, n]);
        a.Mm(b).Dispose();
        var best = double.MaxValue;
        for (var i = 0; i < reps; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            a.Mm(b).Dispose();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }
}
