using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Reproduce.Torch.Native;

namespace Reproduce.Torch;

/// <summary>
/// A libtorch tensor. Each instance owns one native handle, freed by <see cref="Dispose"/>, by the
/// <see cref="Scope"/> it was created in, or (only as a safety net) by the finalizer.
/// Ops live in the partial files beside this one; factories in <see cref="Torch"/>.
/// </summary>
public partial class Tensor : IDisposable
{
    private static long _live;
    private IntPtr _handle;
    private readonly string _origin;

    internal Scope? OwnerScope;
    internal int ScopeSlot;

    internal Tensor(IntPtr handle, string origin, bool scoped = true)
    {
        _handle = handle;
        _origin = origin;
        Interlocked.Increment(ref _live);
        if (scoped) Scope.Current?.Add(this);
    }

    /// <summary>Tensors alive in this process (created and not yet freed), for leak checks.</summary>
    public static long LiveCount => Interlocked.Read(ref _live);

    /// <summary>Native tensor handles alive, counted by the native layer itself.</summary>
    public static long NativeLiveCount => NativeMethods.rn_live_handles();

    internal IntPtr Handle => _handle != IntPtr.Zero
        ? _handle
        : throw new ObjectDisposedException(nameof(Tensor), $"tensor used after Dispose (it was created by {_origin})");

    /// <summary>True once the native handle has been freed.</summary>
    public bool IsDisposed => _handle == IntPtr.Zero;

    /// <summary>Removes the tensor from its scope: the caller now owns it and must dispose it.</summary>
    public Tensor DetachFromScope()
    {
        OwnerScope?.Forget(this);
        return this;
    }

    /// <summary>Moves the tensor to the scope enclosing its current one.</summary>
    public Tensor MoveToOuterScope() => OwnerScope is { } s ? s.MoveOut(this) : this;

    /// <summary>Takes the native handle out of this object (which becomes disposed) for a new owner.</summary>
    internal IntPtr StealHandle()
    {
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h == IntPtr.Zero) throw new ObjectDisposedException(nameof(Tensor), $"tensor used after Dispose (it was created by {_origin})");
        OwnerScope?.Forget(this);
        Interlocked.Decrement(ref _live);
        GC.SuppressFinalize(this);
        return h;
    }

    /// <summary>Frees the native handle now.</summary>
    public void Dispose()
    {
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h == IntPtr.Zero) return;
        OwnerScope?.Forget(this);
        NativeMethods.rn_tensor_free(h);
        Interlocked.Decrement(ref _live);
        GC.SuppressFinalize(this);
    }

    /// <summary>Safety net only: scopes and Dispose free tensors deterministically.</summary>
    ~Tensor()
    {
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h == IntPtr.Zero) return;
        NativeMethods.rn_tensor_free(h);
        Interlocked.Decrement(ref _live);
    }

    // ---- metadata -----------------------------------------------------------------------------

    private unsafe (long[] Shape, ScalarType DType, Device Device, int Flags) Info()
    {
        const int cap = 16;
        var sizes = stackalloc long[cap];
        NativeMethods.Check(NativeMethods.rn_tensor_info(Handle, sizes, cap, out var ndim, out var dtype, out var devType, out var devIndex, out var flags), "Tensor.Info");
        if (ndim > cap) throw new TorchException($"tensor has {ndim} dimensions; at most {cap} are supported");
        return (new ReadOnlySpan<long>(sizes, ndim).ToArray(), (ScalarType)dtype, new Device((DeviceType)devType, devIndex), flags);
    }

    /// <summary>The sizes of each dimension.</summary>
    public long[] Shape => Info().Shape;

    /// <summary>Number of dimensions.</summary>
    public int Dim => Info().Shape.Length;

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public long Size(int dim)
    {
        var s = Shape;
        var d = dim < 0 ? dim + s.Length : dim;
        if (d < 0 || d >= s.Length) throw new ArgumentOutOfRangeException(nameof(dim), $"dimension {dim} out of range for shape {FormatShape(s)}");
        return s[d];
    }

    /// <summary>Number of elements.</summary>
    public long Numel => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Element type.</summary>
    public ScalarType DType => Info().DType;

    /// <summary>Device holding the data.</summary>
    public Device Device => Info().Device;

    /// <summary>True if the data is laid out contiguously in row-major order.</summary>
    public bool IsContiguous => (Info().Flags & 8) != 0;

    /// <summary><c>float32[2,3]</c> (plus <c>@cuda:0</c> off the CPU), for messages.</summary>
    public string Describe()
    {
        var (shape, dtype, device, _) = Info();
        var s = dtype.Name() + FormatShape(shape);
        return device.Type == DeviceType.Cpu ? s : s + "@" + device;
    }

    internal static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(",", shape) + "]";

    // ---- data in and out ------------------------------------------------------------------------

    /// <summary>A tensor with a copy of <paramref name="data"/> in the given shape (numel must match).</summary>
    public static unsafe Tensor From<T>(ReadOnlySpan<T> data, ReadOnlySpan<long> shape, Device? device = null) where T : unmanaged
    {
        var dtype = ScalarTypes.Of<T>();
        var numel = 1L;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"Tensor.From: negative size in shape {FormatShape(shape.ToArray())}");
            numel *= d;
        }
        if (numel != data.Length)
            throw new ArgumentException($"Tensor.From: shape {FormatShape(shape.ToArray())} holds {numel} elements but {data.Length} were given");
        return FromBytes(MemoryMarshal.AsBytes(data), dtype, shape, device);
    }

    /// <summary>A 1-d tensor with a copy of <paramref name="data"/>.</summary>
    public static Tensor From<T>(T[] data, Device? device = null) where T : unmanaged => From<T>(new ReadOnlySpan<T>(data), new ReadOnlySpan<long>([data.LongLength]), device);


    /// <summary>A tensor of <paramref name="dtype"/> whose raw little-endian bytes are <paramref name="bytes"/>.</summary>
    public static unsafe Tensor FromBytes(ReadOnlySpan<byte> bytes, ScalarType dtype, ReadOnlySpan<long> shape, Device? device = null)
    {
        NativeMethods.EnsureLoaded();
        var dev = device ?? Device.Cpu;
        IntPtr h;
        int status;
        fixed (byte* p = bytes)
        fixed (long* s = shape)
            status = NativeMethods.rn_tensor_from_data(p == null ? (void*)1 : p, bytes.Length, s, shape.Length, (int)dtype, (int)dev.Type, dev.Index, out h);
        NativeMethods.Check(status, "Tensor.FromBytes");
        return new Tensor(h, "Tensor.From");
    }

    /// <summary>Copies the values into <paramref name="destination"/> (row-major, this tensor's dtype).</summary>
    public unsafe void CopyTo(Span<byte> destination)
    {
        fixed (byte* p = destination)
            NativeMethods.Check(NativeMethods.rn_tensor_copy_to(Handle, p == null ? (void*)1 : p, destination.Length), $"Tensor.CopyTo({Describe()})");
    }

    /// <summary>The raw little-endian bytes of the values, row-major.</summary>
    public byte[] ToBytes()
    {
        var (shape, dtype, _, _) = Info();
        var n = shape.Aggregate(1L, (a, b) => a * b) * dtype.ElementSize();
        var bytes = new byte[n];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>The values as a flat array; <typeparamref name="T"/> must match the dtype.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var want = ScalarTypes.Of<T>();
        var dtype = DType;
        if (dtype != want)
            throw new TorchException($"Tensor.ToArray<{typeof(T).Name}>: tensor is {Describe()}; convert with .To(ScalarType.{want}) first");
        var result = new T[Numel];
        CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    /// <summary>The single value of a one-element tensor, converted to double.</summary>
    public double ToDouble()
    {
        if (Numel != 1) throw new TorchException($"Tensor.ToDouble: tensor {Describe()} has {Numel} elements, expected 1");
        using var s = Scope.Enter();
        return To(ScalarType.Float64).ToArray<double>()[0];
    }

    /// <summary>The single value of a one-element tensor, converted to long.</summary>
    public long ToInt64()
    {
        if (Numel != 1) throw new TorchException($"Tensor.ToInt64: tensor {Describe()} has {Numel} elements, expected 1");
        using var s = Scope.Enter();
        return To(ScalarType.Int64).ToArray<long>()[0];
    }

    /// <summary>Pointer to the data of a contiguous CPU tensor (zero-copy), or zero otherwise.</summary>
    public IntPtr DataPointer()
    {
        NativeMethods.Check(NativeMethods.rn_tensor_data_ptr(Handle, out var p), "Tensor.DataPointer");
        return p;
    }

    /// <summary>True when both refer to the same tensor object in libtorch.</summary>
    public bool IsSameAs(Tensor other)
    {
        NativeMethods.Check(NativeMethods.rn_tensor_same(Handle, other.Handle, out var same), "Tensor.IsSameAs");
        return same != 0;
    }

    /// <summary>Shape, dtype and (for up to 20 elements) the values.</summary>
    public override string ToString()
    {
        if (IsDisposed) return "Tensor(disposed)";
        var sb = new StringBuilder("Tensor(").Append(Describe());
        if (Numel <= 20)
        {
            using var s = Scope.Enter();
            var v = To(ScalarType.Float64).ToArray<double>();
            sb.Append(", [").Append(string.Join(", ", v.Select(x => x.ToString("G6", CultureInfo.InvariantCulture)))).Append(']');
        }
        return sb.Append(')').ToString();
    }
}
