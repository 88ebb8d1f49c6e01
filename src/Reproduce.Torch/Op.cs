using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Reproduce.Torch.Native;

namespace Reproduce.Torch;

/// <summary>
/// An ATen operator called through the dispatcher by schema name, e.g. <c>Op.Get("aten::add.Tensor")</c>.
/// The native handle is looked up once and cached. Omitted trailing arguments take the schema's
/// defaults. Autograd, autocast and device dispatch apply exactly as for PyTorch's own calls.
/// </summary>
public sealed class Op
{
    private static readonly ConcurrentDictionary<string, Op?> Cache = new(StringComparer.Ordinal);
    private readonly IntPtr _handle;
    private const int InlineResults = 8;

    private Op(string name, IntPtr handle)
    {
        Name = name;
        _handle = handle;
    }

    /// <summary>The qualified name, e.g. <c>aten::add.Tensor</c>.</summary>
    public string Name { get; }

    /// <summary>The full schema text.</summary>
    public string Schema => Marshal.PtrToStringUTF8(NativeMethods.rn_op_schema(_handle)) ?? "";

    /// <summary>The operator <paramref name="qualifiedName"/> (<c>ns::name[.overload]</c>); throws if libtorch has no such schema.</summary>
    public static Op Get(string qualifiedName) =>
        TryGet(qualifiedName) ?? throw new TorchException($"unknown op '{qualifiedName}': libtorch {Torch.Version} has no such schema");

    /// <summary>The operator, or null when this libtorch lacks it (e.g. 2.x-only ops on 1.13).</summary>
    public static Op? TryGet(string qualifiedName)
    {
        if (Cache.TryGetValue(qualifiedName, out var op)) return op;
        var sep = qualifiedName.IndexOf("::", StringComparison.Ordinal);
        if (sep <= 0) throw new ArgumentException($"op name '{qualifiedName}' must look like 'aten::name' or 'aten::name.overload'");
        var dot = qualifiedName.IndexOf('.', sep + 2);
        var name = dot < 0 ? qualifiedName : qualifiedName[..dot];
        var overload = dot < 0 ? "" : qualifiedName[(dot + 1)..];
        NativeMethods.Check(NativeMethods.rn_op_find(name, overload, out var h), $"looking up '{qualifiedName}'");
        // Absent ops are cached too: version checks like TryGet("aten::scaled_dot_product_attention") run per call.
        return Cache.GetOrAdd(qualifiedName, h == IntPtr.Zero ? null : new Op(qualifiedName, h));
    }

    /// <summary>True when this libtorch has the schema.</summary>
    public static bool Exists(string qualifiedName) => TryGet(qualifiedName) is not null;

    /// <summary>Calls an op expected to return exactly one tensor.</summary>
    public Tensor Invoke(params ReadOnlySpan<Arg> args)
    {
        var r = Call(args);
        if (r.Length != 1 || r[0] is not Tensor t)
        {
            r.DisposeAll();
            throw new TorchException($"{Name}: expected one tensor result but got {r.Length} values");
        }
        return t;
    }

    /// <summary>Calls an op returning two tensors (e.g. <c>max.dim</c>, <c>topk</c>).</summary>
    public (Tensor, Tensor) Invoke2(params ReadOnlySpan<Arg> args)
    {
        var r = Call(args);
        if (r.Length < 2 || r[0] is not Tensor a || r[1] is not Tensor b)
        {
            r.DisposeAll();
            throw new TorchException($"{Name}: expected two tensor results but got {r.Length} values");
        }
        return (a, b);
    }

    /// <summary>Calls an op returning a tensor list (e.g. <c>split</c>, <c>unbind</c>).</summary>
    public Tensor[] InvokeList(params ReadOnlySpan<Arg> args)
    {
        var r = Call(args);
        if (r.Length < 1 || r[0] is not Tensor[] list)
        {
            r.DisposeAll();
            throw new TorchException($"{Name}: expected a tensor list result but got {r.Length} values");
        }
        return list;
    }

    /// <summary>Calls an in-place op (<c>add_</c>, <c>copy_</c>, ...) and returns <paramref name="self"/>.</summary>
    public Tensor InvokeInPlace(Tensor self, params ReadOnlySpan<Arg> rest)
    {
        var all = new Arg[rest.Length + 1];
        all[0] = self;
        rest.CopyTo(all.AsSpan(1)); // (all[1..] would copy into a temporary array)
        var r = Call(all);
        r.DisposeAll();
        return self;
    }

    /// <summary>
    /// Calls the op with positional arguments and returns its results: <see cref="Tensor"/>,
    /// <see cref="Tensor"/>[] for lists, <c>long</c>, <c>double</c>, <c>bool</c> or null.
    /// </summary>
    public unsafe object?[] Call(params ReadOnlySpan<Arg> args)
    {
        Span<NativeValue> native = args.Length <= 16 ? stackalloc NativeValue[args.Length] : new NativeValue[args.Length];
        Span<GCHandle> pins = args.Length <= 16 ? stackalloc GCHandle[args.Length] : new GCHandle[args.Length];
        var npins = 0;
        try
        {
            for (var k = 0; k < args.Length; k++)
                native[k] = ToNative(args[k], pins, ref npins);

            var outs = stackalloc NativeValue[InlineResults];
            int status, count;
            fixed (NativeValue* pa = native)
                status = NativeMethods.rn_op_call(_handle, pa, args.Length, outs, InlineResults, out count);
            if (status == NativeMethods.Ok) return Unpack(new ReadOnlySpan<NativeValue>(outs, count));
            if (status == NativeMethods.ResultsPending)
            {
                var big = new NativeValue[count];
                fixed (NativeValue* pb = big)
                    NativeMethods.Check(NativeMethods.rn_op_take_results(pb, count, out count), Name);
                return Unpack(big.AsSpan(0, count));
            }
            throw new TorchException($"{Name}({DescribeArgs(args)}): {NativeMethods.LastError()}");
        }
        finally
        {
            for (var k = 0; k < npins; k++) pins[k].Free();
            FreeStrings(native);
            foreach (var a in args) GC.KeepAlive(a.O);
        }
    }

    private static unsafe void FreeStrings(Span<NativeValue> native)
    {
        foreach (ref var v in native)
            if (v.Tag == NativeTag.String && v.P != IntPtr.Zero)
            {
                System.Runtime.InteropServices.Marshal.FreeCoTaskMem(v.P);
                v.P = IntPtr.Zero;
            }
    }

    private NativeValue ToNative(in Arg a, Span<GCHandle> pins, ref int npins)
    {
        var v = new NativeValue { Tag = a.Tag };
        switch (a.Tag)
        {
            case NativeTag.Tensor:
                v.P = ((Tensor)a.O!).Handle;
                break;
            case NativeTag.Int:
            case NativeTag.Bool:
                v.I = a.I;
                break;
            case NativeTag.Double:
                v.D = a.D;
                break;
            case NativeTag.Device:
                v.I = a.I;
                v.N = (long)a.D;
                break;
            case NativeTag.Generator:
                v.P = ((Generator)a.O!).Handle;
                break;
            case NativeTag.String:
                v.P = System.Runtime.InteropServices.Marshal.StringToCoTaskMemUTF8((string)a.O!);
                break;
            case NativeTag.IntList:
            case NativeTag.DoubleList:
            {
                var arr = (Array)a.O!;
                pins[npins] = GCHandle.Alloc(arr, GCHandleType.Pinned);
                v.P = pins[npins++].AddrOfPinnedObject();
                v.N = arr.Length;
                break;
            }
            case NativeTag.BoolList:
            {
                var bools = (bool[])a.O!;
                var bytes = bools.Select(b => (byte)(b ? 1 : 0)).ToArray();
                pins[npins] = GCHandle.Alloc(bytes, GCHandleType.Pinned);
                v.P = pins[npins++].AddrOfPinnedObject();
                v.N = bytes.Length;
                break;
            }
            case NativeTag.TensorList:
            case NativeTag.OptionalTensorList:
            {
                var ts = (Tensor?[])a.O!;
                var hs = new IntPtr[ts.Length];
                for (var k = 0; k < ts.Length; k++)
                {
                    if (ts[k] is null && a.Tag == NativeTag.TensorList)
                        throw new TorchException($"{Name}: tensor list element {k} is null");
                    hs[k] = ts[k]?.Handle ?? IntPtr.Zero;
                }
                pins[npins] = GCHandle.Alloc(hs, GCHandleType.Pinned);
                v.P = pins[npins++].AddrOfPinnedObject();
                v.N = hs.Length;
                break;
            }
        }
        return v;
    }

    private object?[] Unpack(ReadOnlySpan<NativeValue> outs)
    {
        var results = new List<object?>(outs.Length);
        for (var k = 0; k < outs.Length; k++)
        {
            var v = outs[k];
            switch (v.Tag)
            {
                case NativeTag.Tensor: results.Add(new Tensor(v.P, Name)); break;
                case NativeTag.Int: results.Add(v.I); break;
                case NativeTag.Double: results.Add(v.D); break;
                case NativeTag.Bool: results.Add(v.I != 0); break;
                case NativeTag.None: results.Add(null); break;
                case NativeTag.TensorList:
                {
                    var list = new Tensor[v.I];
                    for (var j = 0; j < list.Length; j++) list[j] = new Tensor(outs[++k].P, Name);
                    results.Add(list);
                    break;
                }
                default: throw new TorchException($"{Name}: unexpected result tag {v.Tag}");
            }
        }
        return results.ToArray();
    }

    private static string DescribeArgs(ReadOnlySpan<Arg> args)
    {
        var parts = new string[args.Length];
        for (var k = 0; k < args.Length; k++)
        {
            try { parts[k] = args[k].Describe(); }
            catch (ObjectDisposedException) { parts[k] = "<disposed tensor>"; }
        }
        return string.Join(", ", parts);
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}

internal static class OpResultExtensions
{
    internal static void DisposeAll(this object?[] results)
    {
        foreach (var r in results)
        {
            if (r is Tensor t) t.Dispose();
            else if (r is Tensor[] ts) foreach (var x in ts) x.Dispose();
        }
    }
}
