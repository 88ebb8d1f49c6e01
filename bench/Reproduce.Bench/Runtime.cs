using System.Diagnostics;
using System.Runtime.InteropServices;
using Reproduce.Torch;

namespace Reproduce.Bench;

/// <summary>Thread settings and the reference matmul rate.</summary>
internal static partial class Runtime
{
    private const int MTrimThreshold = -1, MTopPad = -2, MMmapThreshold = -3;

    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);

    /// <summary>
    /// Makes glibc keep freed tensor memory for reuse instead of returning it to the kernel after every
    /// step (which costs a page fault and a page zeroing per 4 KiB when it is touched again): tensors up to
    /// 32 MiB (glibc's ceiling) come from the heap, and the heap top is trimmed only beyond 1 GiB.
    /// Process-wide allocator policy only: the math is untouched. Returns false if glibc refused.
    /// </summary>
    public static bool KeepFreedMemory() =>
        Mallopt(MMmapThreshold, MmapThreshold) == 1 & Mallopt(MTrimThreshold, TrimThreshold) == 1 & Mallopt(MTopPad, TopPad) == 1;

    private const int MmapThreshold = 32 << 20, TrimThreshold = 1 << 30, TopPad = 64 << 20;

    /// <summary>The same settings as environment variables glibc reads at start-up, for a child process.</summary>
    public static IReadOnlyDictionary<string, string> KeepFreedMemoryEnvironment { get; } = new Dictionary<string, string>
    {
        ["MALLOC_MMAP_THRESHOLD_"] = MmapThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["MALLOC_TRIM_THRESHOLD_"] = TrimThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["MALLOC_TOP_PAD_"] = TopPad.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// Sets libtorch's intra-op threads and, when the BLAS is OpenBLAS (Debian's default), OpenBLAS's own
    /// pool, which <c>at::set_num_threads</c> does not reach. pytorch_bench.py does the same.
    /// </summary>
    public static unsafe bool ApplyThreads(int n)
    {
        Torch.Torch.NumThreads = n;
        if (!NativeLibrary.TryLoad("libopenblas.so.0", out var lib)) return false;
        if (!NativeLibrary.TryGetExport(lib, "openblas_set_num_threads", out var fn)) return false;
        ((delegate* unmanaged<int, void>)fn)(n);
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
