using System.Runtime.InteropServices;
using Reproduce.Torch.Native;

namespace Reproduce.Torch;

/// <summary>Factories, random sampling, and process-wide runtime settings (like the <c>torch</c> module).</summary>
public static class Torch
{
    private static Op A(string name) => Op.Get(name);

    /// <summary>The libtorch version this process runs on, e.g. "1.13.1".</summary>
    public static string Version => Marshal.PtrToStringUTF8(NativeMethods.rn_torch_version()) ?? "?";

    /// <summary>libtorch's major version.</summary>
    public static int VersionMajor => NativeMethods.rn_torch_version_major();

    /// <summary>True when the native layer was built against a CUDA libtorch.</summary>
    public static bool BuiltWithCuda => NativeMethods.rn_built_with_cuda() != 0;

    // ---- factories ------------------------------------------------------------------------------

    /// <summary>Zeros.</summary>
    public static Tensor Zeros(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        A("aten::zeros").Invoke(shape, dtype, Arg.None, device);
    /// <summary>Ones.</summary>
    public static Tensor Ones(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        A("aten::ones").Invoke(shape, dtype, Arg.None, device);
    /// <summary>Uninitialised.</summary>
    public static Tensor Empty(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        A("aten::empty.memory_format").Invoke(shape, dtype, Arg.None, device);
    /// <summary>Filled with <paramref name="value"/>.</summary>
    public static Tensor Full(long[] shape, double value, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        A("aten::full").Invoke(shape, value, dtype, Arg.None, device);
    /// <summary>A 0-d tensor.</summary>
    public static Tensor Scalar(double value, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Full([], value, dtype, device);
    /// <summary>Zeros shaped like <paramref name="t"/>.</summary>
    public static Tensor ZerosLike(Tensor t) => A("aten::zeros_like").Invoke(t);
    /// <summary>Ones shaped like <paramref name="t"/>.</summary>
    public static Tensor OnesLike(Tensor t) => A("aten::ones_like").Invoke(t);
    /// <summary>Filled like <paramref name="t"/>.</summary>
    public static Tensor FullLike(Tensor t, double value) => A("aten::full_like").Invoke(t, value);
    /// <summary>[start, end) in steps.</summary>
    public static Tensor Arange(double start, double end, double step = 1, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        A("aten::arange.start_step").Invoke(start, end, step, dtype, Arg.None, device);
    /// <summary>0..n−1 as int64.</summary>
    public static Tensor Arange(long n, Device? device = null) => A("aten::arange").Invoke(n, ScalarType.Int64, Arg.None, device);
    /// <summary>n evenly spaced values from start to end inclusive.</summary>
    public static Tensor Linspace(double start, double end, long steps, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        A("aten::linspace").Invoke(start, end, steps, dtype, Arg.None, device);
    /// <summary>Identity matrix.</summary>
    public static Tensor Eye(long n, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        A("aten::eye").Invoke(n, dtype, Arg.None, device);
    /// <summary>One-hot encoding of int64 class indices.</summary>
    public static Tensor OneHot(Tensor indices, long numClasses) => A("aten::one_hot").Invoke(indices, numClasses);

    // ---- random -----------------------------------------------------------------------------------

    /// <summary>Uniform [0, 1).</summary>
    public static Tensor Rand(long[] shape, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        A("aten::rand.generator").Invoke(shape, generator, dtype, Arg.None, device);
    /// <summary>Standard normal.</summary>
    public static Tensor Randn(long[] shape, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        A("aten::randn.generator").Invoke(shape, generator, dtype, Arg.None, device);
    /// <summary>Integers uniform in [low, high).</summary>
    public static Tensor Randint(long low, long high, long[] shape, Generator? generator = null, Device? device = null) =>
        A("aten::randint.low_generator").Invoke(low, high, shape, generator, ScalarType.Int64, Arg.None, device);
    /// <summary>A random permutation of 0..n−1.</summary>
    public static Tensor Randperm(long n, Generator? generator = null, Device? device = null) =>
        A("aten::randperm.generator").Invoke(n, generator, ScalarType.Int64, Arg.None, device);
    /// <summary>Gamma(concentration, 1) samples, one per element of <paramref name="concentration"/>.</summary>
    public static Tensor StandardGamma(Tensor concentration, Generator? generator = null) =>
        A("aten::_standard_gamma").Invoke(concentration, generator);
    /// <summary>Beta(α, β) samples of the given shape, via two Gamma draws: X/(X+Y).</summary>
    public static Tensor Beta(double alpha, double beta, long[] shape, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        using var s = Scope.Enter();
        var x = StandardGamma(Full(shape, alpha, dtype, device), generator);
        var y = StandardGamma(Full(shape, beta, dtype, device), generator);
        return s.MoveOut(x.Div(x.Add(y)));
    }
    /// <summary>Bernoulli draws with per-element probabilities <paramref name="p"/>.</summary>
    public static Tensor Bernoulli(Tensor p, Generator? generator = null) => A("aten::bernoulli").Invoke(p, generator);
    /// <summary>Samples indices from rows of non-negative weights.</summary>
    public static Tensor Multinomial(Tensor weights, long samples, bool replacement = false, Generator? generator = null) =>
        A("aten::multinomial").Invoke(weights, samples, replacement, generator);

    /// <summary>Seeds every default generator (CPU and CUDA).</summary>
    public static void ManualSeed(ulong seed) => NativeMethods.Check(NativeMethods.rn_manual_seed(seed), "ManualSeed");

    // ---- threads -----------------------------------------------------------------------------------

    /// <summary>Intra-op threads used by libtorch on the CPU (OpenBLAS's own pool is set to match).</summary>
    public static int NumThreads
    {
        get => NativeMethods.rn_get_num_threads();
        set
        {
            NativeMethods.Check(NativeMethods.rn_set_num_threads(value), $"NumThreads = {value}");
            Platform.SetBlasThreads(value);
        }
    }

    /// <summary>
    /// TF32 for float32 matmuls on CUDA (cuBLAS), PyTorch's <c>torch.backends.cuda.matmul.allow_tf32</c>: a
    /// process-wide flag, off by default; it changes results only on Ampere-or-newer GPUs.
    /// </summary>
    public static bool AllowTf32Matmul
    {
        get => GetTf32().Matmul;
        set => NativeMethods.Check(NativeMethods.rn_set_allow_tf32(value ? 1 : 0, GetTf32().Cudnn ? 1 : 0), $"AllowTf32Matmul = {value}");
    }

    /// <summary>
    /// TF32 for float32 convolutions on CUDA (cuDNN), PyTorch's <c>torch.backends.cudnn.allow_tf32</c>: a
    /// process-wide flag, on by default in libtorch.
    /// </summary>
    public static bool AllowTf32Cudnn
    {
        get => GetTf32().Cudnn;
        set => NativeMethods.Check(NativeMethods.rn_set_allow_tf32(GetTf32().Matmul ? 1 : 0, value ? 1 : 0), $"AllowTf32Cudnn = {value}");
    }

    private static unsafe (bool Matmul, bool Cudnn) GetTf32()
    {
        int matmul, cudnn;
        NativeMethods.Check(NativeMethods.rn_get_allow_tf32(&matmul, &cudnn), "AllowTf32");
        return (matmul != 0, cudnn != 0);
    }

    /// <summary>
    /// True when glibc malloc keeps freed memory for reuse (set at start-up; REPRODUCE_MALLOC=default
    /// keeps glibc's defaults). Saves a page fault per 4 KiB of every large tensor allocated each step.
    /// </summary>
    public static bool MallocKeepsFreedMemory
    {
        get
        {
            NativeMethods.EnsureLoaded();
            return Platform.MallocTuned;
        }
    }

    /// <summary>The environment variables that give a child process (e.g. a PyTorch reference) the same malloc policy.</summary>
    public static IReadOnlyDictionary<string, string> MallocPolicyEnvironment => Platform.KeepFreedMemoryEnvironment;

    /// <summary>Inter-op threads (settable once, before any parallel work).</summary>
    public static void SetNumInteropThreads(int n) => NativeMethods.Check(NativeMethods.rn_set_num_interop_threads(n), "SetNumInteropThreads");

    // ---- grad modes -----------------------------------------------------------------------------

    /// <summary>True when autograd records ops on this thread.</summary>
    public static bool IsGradEnabled => NativeMethods.rn_grad_mode_is_enabled() != 0;

    /// <summary>Disables autograd on this thread until disposed: <c>using (Torch.NoGrad()) { ... }</c>.</summary>
    public static GradModeGuard NoGrad() => new(false);

    /// <summary>Enables autograd on this thread until disposed.</summary>
    public static GradModeGuard EnableGrad() => new(true);

    /// <summary>Inference mode (no autograd, no version counters) on this thread until disposed.</summary>
    public static InferenceModeGuard InferenceMode() => new();

    /// <summary>True inside <see cref="InferenceMode"/>.</summary>
    public static bool IsInferenceMode => NativeMethods.rn_inference_mode_is_enabled() != 0;

    /// <summary>Restores the previous grad mode on dispose.</summary>
    public readonly struct GradModeGuard : IDisposable
    {
        private readonly bool _previous;

        internal GradModeGuard(bool enabled)
        {
            _previous = NativeMethods.rn_grad_mode_is_enabled() != 0;
            NativeMethods.rn_grad_mode_set_enabled(enabled ? 1 : 0);
        }

        /// <inheritdoc/>
        public void Dispose() => NativeMethods.rn_grad_mode_set_enabled(_previous ? 1 : 0);
    }

    /// <summary>Leaves inference mode on dispose.</summary>
    public sealed class InferenceModeGuard : IDisposable
    {
        private IntPtr _guard;

        internal InferenceModeGuard() => NativeMethods.Check(NativeMethods.rn_inference_mode_enter(1, out _guard), "InferenceMode");

        /// <inheritdoc/>
        public void Dispose()
        {
            var g = Interlocked.Exchange(ref _guard, IntPtr.Zero);
            if (g != IntPtr.Zero) NativeMethods.Check(NativeMethods.rn_inference_mode_exit(g), "InferenceMode exit");
        }
    }

    /// <summary>
    /// Autocast region on <paramref name="device"/> (CPU or CUDA) with <paramref name="dtype"/> (bf16 by default) until
    /// disposed: PyTorch's <c>torch.autocast(device_type, dtype)</c>. Ops on the autocast list (matmuls, linear,
    /// convolutions) run in <paramref name="dtype"/>, the ones on the fp32 list are cast up, the others keep their
    /// inputs' dtype, per libtorch's policy for that device. Parameters stay float32 (the master weights), and so do their
    /// gradients and the optimizer state.
    /// </summary>
    public static AutocastGuard Autocast(DeviceType device, ScalarType dtype = ScalarType.BFloat16) => new(device, dtype);

    /// <summary>Whether an autocast region is open on <paramref name="device"/>.</summary>
    public static bool IsAutocastEnabled(DeviceType device)
    {
        NativeMethods.Check(NativeMethods.rn_autocast_is_enabled((int)device, out var enabled), "IsAutocastEnabled");
        return enabled != 0;
    }

    /// <summary>Restores the previous autocast state on dispose.</summary>
    public sealed class AutocastGuard : IDisposable
    {
        private readonly DeviceType _device;
        private readonly int _prevEnabled, _prevDtype;
        private bool _done;

        internal AutocastGuard(DeviceType device, ScalarType dtype)
        {
            _device = device;
            NativeMethods.Check(NativeMethods.rn_autocast_enter((int)device, (int)dtype, out _prevEnabled, out _prevDtype), $"Autocast({device}, {dtype})");
        }

        /// <inheritdoc/>
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            NativeMethods.Check(NativeMethods.rn_autocast_exit((int)_device, _prevEnabled, _prevDtype), "Autocast exit");
        }
    }
}

/// <summary>CUDA queries; all are safe to call on a CPU-only build.</summary>
public static class Cuda
{
    /// <summary>True when a CUDA device can be used.</summary>
    public static bool IsAvailable => NativeMethods.rn_cuda_is_available() != 0;

    /// <summary>Number of CUDA devices.</summary>
    public static int DeviceCount => NativeMethods.rn_cuda_device_count();

    /// <summary>Waits for all work on the device (−1: current).</summary>
    public static void Synchronize(int device = -1) => NativeMethods.Check(NativeMethods.rn_cuda_synchronize(device), "Cuda.Synchronize");

    /// <summary>Bytes allocated, reserved, and peak allocated by the caching allocator.</summary>
    public static (long Allocated, long Reserved, long PeakAllocated) MemoryStats(int device = 0)
    {
        NativeMethods.Check(NativeMethods.rn_cuda_memory_stats(device, out var a, out var r, out var p), "Cuda.MemoryStats");
        return (a, r, p);
    }

    /// <summary>Resets the peak counters.</summary>
    public static void ResetPeakMemoryStats(int device = 0) => NativeMethods.Check(NativeMethods.rn_cuda_reset_peak(device), "Cuda.ResetPeak");

    /// <summary>
    /// Whether CUDA device <paramref name="device"/> computes in bf16 (compute capability 8.0 or newer, PyTorch's
    /// <c>torch.cuda.is_bf16_supported()</c>); false on a build without CUDA.
    /// </summary>
    public static bool IsBf16Supported(int device = 0)
    {
        NativeMethods.Check(NativeMethods.rn_cuda_bf16_supported(device, out var supported), "Cuda.IsBf16Supported");
        return supported != 0;
    }

    /// <summary>Releases cached, unused blocks.</summary>
    public static void EmptyCache() => NativeMethods.Check(NativeMethods.rn_cuda_empty_cache(), "Cuda.EmptyCache");
}
