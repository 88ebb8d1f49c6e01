using System.Diagnostics;
using Reproduce.Torch;

namespace Reproduce.Bench;

/// <summary>The reference matmul rate.</summary>
internal static partial class Runtime
{
    /// <summary>
    /// <c>Mm</c> rate of an n×n by n×n product in GFLOP/s (2·n³ per product), best of <paramref name="reps"/>: float32
    /// 2048 on the CPU by default; the GPU kit measures bf16 at 8192 on a CUDA device (synchronised around each product).
    /// </summary>
    public static double MatmulGflops(int reps = 5, Device? device = null, ScalarType dtype = ScalarType.Float32, long n = 2048)
    {
        var d = device ?? Device.Cpu;
        using var s = Scope.Enter();
        var a = Torch.Torch.Randn([n, n], dtype: dtype, device: d);
        var b = Torch.Torch.Randn([n, n], dtype: dtype, device: d);
        a.Mm(b).Dispose();
        var best = double.MaxValue;
        for (var i = 0; i < reps; i++)
        {
            if (d.IsCuda) Cuda.Synchronize();
            var t0 = Stopwatch.GetTimestamp();
            a.Mm(b).Dispose();
            if (d.IsCuda) Cuda.Synchronize();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }
}
