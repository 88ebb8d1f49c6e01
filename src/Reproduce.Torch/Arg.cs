using Reproduce.Torch.Native;

namespace Reproduce.Torch;

/// <summary>
/// One argument of a dispatcher call. Converts implicitly from the .NET values an aten schema
/// takes; the native side then converts it to the schema's type (an int to a float or Scalar,
/// a single int to an <c>int[2]</c>, and so on).
/// </summary>
public readonly struct Arg
{
    internal readonly NativeTag Tag;
    internal readonly long I;
    internal readonly double D;
    internal readonly object? O;

    private Arg(NativeTag tag, long i = 0, double d = 0, object? o = null)
    {
        Tag = tag;
        I = i;
        D = d;
        O = o;
    }

    /// <summary>None (for optional arguments).</summary>
    public static readonly Arg None = new(NativeTag.None);

    /// <summary>The schema's default value, for skipping an argument in the middle.</summary>
    public static readonly Arg Default = new(NativeTag.Default);

    /// <summary>A <c>Tensor?[]</c> argument (e.g. for <c>aten::index.Tensor</c>); null entries are None.</summary>
    public static Arg OptionalTensors(params Tensor?[] tensors) => new(NativeTag.OptionalTensorList, o: tensors);

#pragma warning disable CS1591 // the conversions are self-describing
    public static implicit operator Arg(Tensor? t) => t is null ? None : new(NativeTag.Tensor, o: t);
    public static implicit operator Arg(long v) => new(NativeTag.Int, i: v);
    public static implicit operator Arg(int v) => new(NativeTag.Int, i: v);
    public static implicit operator Arg(long? v) => v is { } x ? new(NativeTag.Int, i: x) : None;
    public static implicit operator Arg(double v) => new(NativeTag.Double, d: v);
    public static implicit operator Arg(double? v) => v is { } x ? new(NativeTag.Double, d: x) : None;
    public static implicit operator Arg(bool v) => new(NativeTag.Bool, i: v ? 1 : 0);
    public static implicit operator Arg(ScalarType v) => new(NativeTag.Int, i: (int)v);
    public static implicit operator Arg(ScalarType? v) => v is { } x ? new(NativeTag.Int, i: (int)x) : None;
    public static implicit operator Arg(Device v) => new(NativeTag.Device, i: (int)v.Type, d: v.Index);
    public static implicit operator Arg(Device? v) => v is { } x ? x : None;
    public static implicit operator Arg(long[]? v) => v is null ? None : new(NativeTag.IntList, o: v);
    public static implicit operator Arg(double[]? v) => v is null ? None : new(NativeTag.DoubleList, o: v);
    public static implicit operator Arg(bool[]? v) => v is null ? None : new(NativeTag.BoolList, o: v);
    public static implicit operator Arg(Tensor[]? v) => v is null ? None : new(NativeTag.TensorList, o: v);
    public static implicit operator Arg(string? v) => v is null ? None : new(NativeTag.String, o: v);
    public static implicit operator Arg(Generator? v) => v is null ? None : new(NativeTag.Generator, o: v);
#pragma warning restore CS1591

    /// <summary>A short description for error messages: <c>float32[2,3]</c>, <c>5</c>, <c>[1,2]</c>.</summary>
    internal string Describe() => Tag switch
    {
        NativeTag.None => "None",
        NativeTag.Default => "default",
        NativeTag.Tensor => ((Tensor)O!).Describe(),
        NativeTag.Int => I.ToString(System.Globalization.CultureInfo.InvariantCulture),
        NativeTag.Double => D.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        NativeTag.Bool => I != 0 ? "true" : "false",
        NativeTag.Device => new Device((DeviceType)I, (int)D).ToString(),
        NativeTag.IntList => "[" + string.Join(",", (long[])O!) + "]",
        NativeTag.DoubleList => "[" + string.Join(",", (double[])O!) + "]",
        NativeTag.BoolList => "[" + string.Join(",", (bool[])O!) + "]",
        NativeTag.TensorList or NativeTag.OptionalTensorList =>
            "[" + string.Join(", ", ((Tensor?[])O!).Select(t => t?.Describe() ?? "None")) + "]",
        NativeTag.String => "'" + (string)O! + "'",
        NativeTag.Generator => "Generator",
        _ => Tag.ToString(),
    };
}
