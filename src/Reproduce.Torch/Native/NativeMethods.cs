using System.Reflection;
using System.Runtime.InteropServices;

namespace Reproduce.Torch.Native;

/// <summary>Tags of <see cref="NativeValue"/>, mirroring <c>rn_tag</c> in src/native/rn_api.h.</summary>
internal enum NativeTag : int
{
    None = 0,
    Tensor = 1,
    Int = 2,
    Double = 3,
    Bool = 4,
    IntList = 5,
    DoubleList = 6,
    TensorList = 7,
    OptionalTensorList = 8,
    String = 9,
    Device = 10,
    Generator = 11,
    BoolList = 12,
    Default = 13,
}

/// <summary>One op argument or result; layout matches <c>rn_value</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeValue
{
    public NativeTag Tag;
    public int Pad;
    public long I;
    public double D;
    public IntPtr P;
    public long N;
}

/// <summary>P/Invoke declarations of the flat C ABI in src/native.</summary>
internal static unsafe partial class NativeMethods
{
    internal const string Lib = "reproduce_native";
    internal const int Ok = 0;
    internal const int ResultsPending = 2;

    static NativeMethods()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeMethods).Assembly, Resolve);
        // Debian's libtorch starts with one intra-op thread; use every core unless told otherwise,
        // and give OpenBLAS's own pool the same count.
        var env = Environment.GetEnvironmentVariable("REPRODUCE_THREADS");
        var threads = int.TryParse(env, out var n) && n > 0 ? n : Environment.ProcessorCount;
        rn_set_num_threads(threads);
        Platform.SetBlasThreads(threads);
        if (Environment.GetEnvironmentVariable("REPRODUCE_MALLOC") != "default") Platform.KeepFreedMemory();
    }

    /// <summary>Forces the resolver to be installed and the library loaded; throws a clear error if absent.</summary>
    internal static void EnsureLoaded() => _ = rn_torch_version_major();

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Lib) return IntPtr.Zero;
        var tried = new List<string>();
        foreach (var path in Candidates())
        {
            tried.Add(path);
            if (File.Exists(path) && NativeLibrary.TryLoad(path, out var handle)) return handle;
        }
        throw new DllNotFoundException(
            "libreproduce_native.so was not found or could not be loaded (is libtorch installed?). " +
            "Build it with `dotnet fsi build.fsx native`, or point REPRODUCE_NATIVE_LIB at it. Looked in: " +
            string.Join(", ", tried));
    }

    private static IEnumerable<string> Candidates()
    {
        var env = Environment.GetEnvironmentVariable("REPRODUCE_NATIVE_LIB");
        if (!string.IsNullOrEmpty(env)) yield return env;
        yield return Path.Combine(AppContext.BaseDirectory, "libreproduce_native.so");
        // Development layout: walk up to the repository's build/native folder.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, "build", "native", "libreproduce_native.so");
            if (File.Exists(p)) { yield return p; yield break; }
        }
    }

    [LibraryImport(Lib)] internal static partial IntPtr rn_last_error();
    [LibraryImport(Lib)] internal static partial long rn_live_handles();

    // tensors
    [LibraryImport(Lib)] internal static partial int rn_tensor_free(IntPtr h);
    [LibraryImport(Lib)] internal static partial int rn_tensor_from_data(void* data, long nbytes, long* shape, int ndim, int dtype, int devType, int devIndex, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int rn_tensor_copy_to(IntPtr h, void* dst, long nbytes);
    [LibraryImport(Lib)] internal static partial int rn_tensor_data_ptr(IntPtr h, out IntPtr ptr);
    [LibraryImport(Lib)] internal static partial int rn_tensor_info(IntPtr h, long* sizes, int cap, out int ndim, out int dtype, out int devType, out int devIndex, out int flags);
    [LibraryImport(Lib)] internal static partial int rn_tensor_clone_handle(IntPtr h, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int rn_tensor_set_data(IntPtr h, IntPtr src);
    [LibraryImport(Lib)] internal static partial int rn_tensor_same(IntPtr a, IntPtr b, out int same);

    // torch.save payloads (rn_pickle.cpp)
    [LibraryImport(Lib)] internal static partial int rn_pickle_load_tensors(void* bytes, long n, IntPtr* outs, int cap, out int count);
    // torch.save checkpoints as flat (path, value) entries (rn_checkpoint.cpp)
    [LibraryImport(Lib)] internal static partial int rn_checkpoint_load(void* bytes, long n, out IntPtr doc, out int count, out long textLen);
    [LibraryImport(Lib)] internal static partial int rn_checkpoint_text(IntPtr doc, byte* buf, long cap);
    [LibraryImport(Lib)] internal static partial int rn_checkpoint_tensors(IntPtr doc, IntPtr* outs, int cap);
    [LibraryImport(Lib)] internal static partial int rn_checkpoint_free(IntPtr doc);

    // ops
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial int rn_op_find(string name, string overload, out IntPtr op);
    [LibraryImport(Lib)] internal static partial IntPtr rn_op_schema(IntPtr op);
    [LibraryImport(Lib)] internal static partial int rn_op_call(IntPtr op, NativeValue* args, int nargs, NativeValue* outs, int cap, out int nouts);
    [LibraryImport(Lib)] internal static partial int rn_op_take_results(NativeValue* outs, int cap, out int nouts);

    // autograd
    [LibraryImport(Lib)] internal static partial int rn_tensor_set_requires_grad(IntPtr h, int flag);
    [LibraryImport(Lib)] internal static partial int rn_tensor_grad(IntPtr h, out IntPtr grad);
    [LibraryImport(Lib)] internal static partial int rn_tensor_set_grad(IntPtr h, IntPtr grad);
    [LibraryImport(Lib)] internal static partial int rn_tensor_zero_grad(IntPtr h, int setToNone);
    [LibraryImport(Lib)] internal static partial int rn_tensor_retain_grad(IntPtr h);
    [LibraryImport(Lib)] internal static partial int rn_tensor_grad_fn_name(IntPtr h, byte* buf, int cap);
    [LibraryImport(Lib)] internal static partial int rn_backward(IntPtr* roots, IntPtr* grads, int n, int retainGraph, int createGraph);
    [LibraryImport(Lib)] internal static partial int rn_autograd_grad(IntPtr* outputs, IntPtr* gradOutputs, int noutputs, IntPtr* inputs, int ninputs, int retainGraph, int createGraph, int allowUnused, IntPtr* outs);
    [LibraryImport(Lib)] internal static partial int rn_grad_mode_is_enabled();
    [LibraryImport(Lib)] internal static partial void rn_grad_mode_set_enabled(int enabled);
    [LibraryImport(Lib)] internal static partial int rn_inference_mode_enter(int enabled, out IntPtr guard);
    [LibraryImport(Lib)] internal static partial int rn_inference_mode_exit(IntPtr guard);
    [LibraryImport(Lib)] internal static partial int rn_inference_mode_is_enabled();

    // runtime
    [LibraryImport(Lib)] internal static partial IntPtr rn_torch_version();
    [LibraryImport(Lib)] internal static partial int rn_torch_version_major();
    [LibraryImport(Lib)] internal static partial int rn_torch_version_minor();
    [LibraryImport(Lib)] internal static partial int rn_built_with_cuda();
    [LibraryImport(Lib)] internal static partial int rn_manual_seed(ulong seed);
    [LibraryImport(Lib)] internal static partial int rn_set_num_threads(int n);
    [LibraryImport(Lib)] internal static partial int rn_get_num_threads();
    [LibraryImport(Lib)] internal static partial int rn_set_allow_tf32(int matmul, int cudnn);
    [LibraryImport(Lib)] internal static unsafe partial int rn_get_allow_tf32(int* matmul, int* cudnn);
    [LibraryImport(Lib)] internal static partial int rn_set_num_interop_threads(int n);
    [LibraryImport(Lib)] internal static partial int rn_generator_new(int devType, int devIndex, ulong seed, out IntPtr gen);
    [LibraryImport(Lib)] internal static partial int rn_generator_default(int devType, int devIndex, out IntPtr gen);
    [LibraryImport(Lib)] internal static partial int rn_generator_free(IntPtr gen);
    [LibraryImport(Lib)] internal static partial int rn_generator_set_seed(IntPtr gen, ulong seed);
    [LibraryImport(Lib)] internal static partial int rn_generator_get_state(IntPtr gen, out IntPtr state);
    [LibraryImport(Lib)] internal static partial int rn_generator_set_state(IntPtr gen, IntPtr state);
    [LibraryImport(Lib)] internal static partial int rn_cuda_is_available();
    [LibraryImport(Lib)] internal static partial int rn_cuda_device_count();
    [LibraryImport(Lib)] internal static partial int rn_cuda_synchronize(int device);
    [LibraryImport(Lib)] internal static partial int rn_cuda_memory_stats(int device, out long allocated, out long reserved, out long peak);
    [LibraryImport(Lib)] internal static partial int rn_cuda_reset_peak(int device);
    [LibraryImport(Lib)] internal static partial int rn_cuda_empty_cache();
    [LibraryImport(Lib)] internal static partial int rn_autocast_enter(int deviceType, int dtype, out int prevEnabled, out int prevDtype);
    [LibraryImport(Lib)] internal static partial int rn_autocast_exit(int deviceType, int prevEnabled, int prevDtype);
    [LibraryImport(Lib)] internal static partial int rn_autocast_is_enabled(int deviceType, out int enabled);
    [LibraryImport(Lib)] internal static partial int rn_cuda_bf16_supported(int device, out int supported);

    // image codecs (rn_codec.cpp)
    [LibraryImport(Lib)] internal static partial int rn_built_with_codecs();
    [LibraryImport(Lib)] internal static partial int rn_image_info(byte* data, long n, out int format, out int height, out int width, out int channels, out int bitDepth);
    [LibraryImport(Lib)] internal static partial int rn_jpeg_decode(byte* data, long n, int channels, int minH, int minW, int chw, int strict, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int rn_jpeg_encode(IntPtr image, int quality, int subsamp, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int rn_png_decode(byte* data, long n, int mode, int chw, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int rn_png_encode(IntPtr image, int level, out IntPtr result);

    // c10d process groups and gradient buckets (rn_dist.cpp, rn_dist_ddp.cpp)
    [LibraryImport(Lib)] internal static partial int rn_dist_backends();
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial int rn_dist_init(string master, int port, int rank, int world, int storeClientOnly, string backend, long timeoutMs, out IntPtr group);
    [LibraryImport(Lib)] internal static partial int rn_dist_free(IntPtr group);
    [LibraryImport(Lib)] internal static partial int rn_dist_allreduce(IntPtr group, IntPtr tensor, int op, out IntPtr work);
    [LibraryImport(Lib)] internal static partial int rn_dist_broadcast(IntPtr group, IntPtr tensor, int root, out IntPtr work);
    [LibraryImport(Lib)] internal static partial int rn_dist_allgather(IntPtr group, IntPtr tensor, out IntPtr result, out IntPtr work);
    [LibraryImport(Lib)] internal static partial int rn_dist_barrier(IntPtr group, out IntPtr work);
    [LibraryImport(Lib)] internal static partial int rn_dist_wait(IntPtr work);
    [LibraryImport(Lib)] internal static partial void rn_dist_op_free(IntPtr work);
    [LibraryImport(Lib)] internal static partial int rn_dist_allreduce_autograd(IntPtr group, IntPtr tensor, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int rn_ddp_create(IntPtr group, IntPtr* parameters, int n, long capBytes, out IntPtr reducer);
    [LibraryImport(Lib)] internal static partial int rn_ddp_set_sync(IntPtr reducer, int sync);
    [LibraryImport(Lib)] internal static partial int rn_ddp_finish(IntPtr reducer);
    [LibraryImport(Lib)] internal static partial int rn_ddp_issued(IntPtr reducer, out int issued, out int buckets);
    [LibraryImport(Lib)] internal static partial void rn_ddp_free(IntPtr reducer);

    /// <summary>The calling thread's last native error message.</summary>
    internal static string LastError() => Marshal.PtrToStringUTF8(rn_last_error()) ?? "unknown native error";

    /// <summary>Throws a <see cref="TorchException"/> with <paramref name="what"/> and the native message when <paramref name="status"/> is non-zero.</summary>
    internal static void Check(int status, string what)
    {
        if (status != Ok) throw new TorchException($"{what}: {LastError()}");
    }
}
