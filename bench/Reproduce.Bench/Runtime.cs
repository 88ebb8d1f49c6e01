using System.Diagnostics;
using System.Runtime.InteropServices;
using Reproduce.Torch;

namespace Reproduce.Bench;

/// <summary>Thread settings and the reference matmul rate.</summary>
internal static class Runtime
{
    private delegate void SetThreads(int n);

    /// <summary>
    /// Sets libtorch's intra-op threads and, when the BLAS is OpenBLAS (Debian's default), OpenBLAS's own
    /// pool, which <c>at::set_num_threads</c> does not reach. pytorch_bench.py does the same.
    /// </summary>
    public static bool ApplyThreads(int n)
    {
        Torch.Torch.NumThreads = n;
        if (!NativeLibrary.TryLoad("libopenblas.so.0", out var lib)) return false;
        if (!NativeLibrary.TryGetExport(lib, "openblas_set_num_threads", out var fn)) return false;
        Marshal.GetDelegateForFunctionPointer<SetThreads>(fn)(n);
        return true;
    }

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
