using System.Runtime.InteropServices;

namespace Reproduce.Torch.Native;

/// <summary>
/// Process-wide policies outside libtorch that decide CPU training speed: glibc's malloc trimming and
/// OpenBLAS's own thread pool (which <c>at::set_num_threads</c> does not reach).
/// </summary>
internal static unsafe partial class Platform
{
    private const int MTrimThreshold = -1, MTopPad = -2, MMmapThreshold = -3;
    private const int MmapThreshold = 32 << 20, TrimThreshold = 1 << 30, TopPad = 64 << 20;

    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);

    /// <summary>True once <see cref="KeepFreedMemory"/> succeeded in this process.</summary>
    internal static bool MallocTuned { get; private set; }

    /// <summary>
    /// Makes glibc keep freed tensor memory for reuse instead of returning it to the kernel after every
    /// step, which costs a page fault and a page zeroing per 4 KiB when it is touched again: blocks up to
    /// 32 MiB come from the heap, and the heap top is trimmed only beyond 1 GiB. Allocation policy only:
    /// values are untouched. Python's PyTorch keeps glibc's defaults (REPRODUCE_MALLOC=default does too).
    /// </summary>
    internal static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            MallocTuned = (Mallopt(MMmapThreshold, MmapThreshold) == 1) & (Mallopt(MTrimThreshold, TrimThreshold) == 1) & (Mallopt(MTopPad, TopPad) == 1);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            MallocTuned = false; // not glibc (e.g. musl): keep the platform's allocator as it is
        }
        return MallocTuned;
    }

    /// <summary>The same settings as the environment variables glibc reads at start-up, for child processes.</summary>
    internal static IReadOnlyDictionary<string, string> KeepFreedMemoryEnvironment { get; } = new Dictionary<string, string>
    {
        ["MALLOC_MMAP_THRESHOLD_"] = MmapThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["MALLOC_TRIM_THRESHOLD_"] = TrimThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["MALLOC_TOP_PAD_"] = TopPad.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Sets OpenBLAS's thread pool when OpenBLAS is the loaded BLAS; false otherwise.</summary>
    internal static bool SetBlasThreads(int n)
    {
        if (!NativeLibrary.TryLoad("libopenblas.so.0", out var lib)) return false;
        if (!NativeLibrary.TryGetExport(lib, "openblas_set_num_threads", out var fn)) return false;
        ((delegate* unmanaged<int, void>)fn)(n);
        return true;
    }
}
