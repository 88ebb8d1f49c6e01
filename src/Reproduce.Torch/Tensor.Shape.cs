namespace Reproduce.Torch;

// Views, reshaping, joining, indexing, dtype/device conversion.
public partial class Tensor
{
    /// <summary>Reshape (a view when possible); one size may be −1.</summary>
    public Tensor Reshape(params long[] shape) => A("aten::reshape").Invoke(this, shape);
    /// <summary>A view with another shape (requires compatible strides).</summary>
    public Tensor View(params long[] shape) => A("aten::view").Invoke(this, shape);
    /// <summary>Reorders dimensions.</summary>
    public Tensor Permute(params long[] dims) => A("aten::permute").Invoke(this, dims);
    /// <summary>Swaps two dimensions.</summary>
    public Tensor Transpose(long dim0, long dim1) => A("aten::transpose.int").Invoke(this, dim0, dim1);
    /// <summary>2-d transpose.</summary>
    public Tensor T() => A("aten::t").Invoke(this);
    /// <summary>Contiguous copy (or self when already contiguous, as a new handle).</summary>
    public Tensor Contiguous() => A("aten::contiguous").Invoke(this);
    /// <summary>A copy that is part of the autograd graph.</summary>
    public Tensor Clone() => A("aten::clone").Invoke(this);
    /// <summary>Inserts a size-1 dimension.</summary>
    public Tensor Unsqueeze(long dim) => A("aten::unsqueeze").Invoke(this, dim);
    /// <summary>Removes a size-1 dimension.</summary>
    public Tensor Squeeze(long dim) => A("aten::squeeze.dim").Invoke(this, dim);
    /// <summary>Removes all size-1 dimensions.</summary>
    public Tensor Squeeze() => A("aten::squeeze").Invoke(this);
    /// <summary>Flattens dimensions start..end into one.</summary>
    public Tensor Flatten(long startDim = 0, long endDim = -1) => A("aten::flatten.using_ints").Invoke(this, startDim, endDim);
    /// <summary>Broadcasts to <paramref name="shape"/> (−1 keeps a size) without copying.</summary>
    public Tensor Expand(params long[] shape) => A("aten::expand").Invoke(this, shape);
    /// <summary>Broadcasts to the shape of <paramref name="other"/>.</summary>
    public Tensor ExpandAs(Tensor other) => A("aten::expand_as").Invoke(this, other);
    /// <summary>Repeats along each dimension.</summary>
    public Tensor Repeat(params long[] repeats) => A("aten::repeat").Invoke(this, repeats);
    /// <summary>Reverses the given dimensions.</summary>
    public Tensor Flip(params long[] dims) => A("aten::flip").Invoke(this, dims);
    /// <summary>Rolls elements along dimensions.</summary>
    public Tensor Roll(long[] shifts, long[] dims) => A("aten::roll").Invoke(this, shifts, dims);
    /// <summary>Slice [start, end) with step along <paramref name="dim"/> (a view).</summary>
    public Tensor Slice(long dim, long? start, long? end, long step = 1) => A("aten::slice.Tensor").Invoke(this, dim, start, end, step);
    /// <summary>Selects one index along <paramref name="dim"/>, removing the dimension.</summary>
    public Tensor Select(long dim, long index) => A("aten::select.int").Invoke(this, dim, index);
    /// <summary>length elements from start along dim (a view).</summary>
    public Tensor Narrow(long dim, long start, long length) => A("aten::narrow").Invoke(this, dim, start, length);
    /// <summary>Gathers whole slices by index along <paramref name="dim"/>.</summary>
    public Tensor IndexSelect(long dim, Tensor index) => A("aten::index_select").Invoke(this, dim, index);
    /// <summary>Advanced indexing (PyTorch's <c>t[i0, i1, ...]</c> with tensors; null = full slice).</summary>
    public Tensor Index(params Tensor?[] indices) => A("aten::index.Tensor").Invoke(this, Arg.OptionalTensors(indices));
    /// <summary>In place: <c>self[indices] = values</c> (or += with <paramref name="accumulate"/>).</summary>
    public Tensor IndexPut_(Tensor?[] indices, Tensor values, bool accumulate = false) =>
        A("aten::index_put_").InvokeInPlace(this, Arg.OptionalTensors(indices), values, accumulate);
    /// <summary>Elements where <paramref name="mask"/> holds, as a 1-d tensor.</summary>
    public Tensor MaskedSelect(Tensor mask) => A("aten::masked_select").Invoke(this, mask);
    /// <summary>Indices of non-zero elements, [n, dim].</summary>
    public Tensor Nonzero() => A("aten::nonzero").Invoke(this);
    /// <summary>Splits into <paramref name="chunks"/> nearly equal views.</summary>
    public Tensor[] Chunk(long chunks, long dim = 0) => A("aten::chunk").InvokeList(this, chunks, dim);
    /// <summary>Splits into views of <paramref name="size"/> along <paramref name="dim"/>.</summary>
    public Tensor[] Split(long size, long dim = 0) => A("aten::split.Tensor").InvokeList(this, size, dim);
    /// <summary>Splits into views with the given sizes.</summary>
    public Tensor[] Split(long[] sizes, long dim = 0) => A("aten::split_with_sizes").InvokeList(this, sizes, dim);
    /// <summary>Removes a dimension, returning its slices.</summary>
    public Tensor[] Unbind(long dim = 0) => A("aten::unbind.int").InvokeList(this, dim);

    /// <summary>Converts the element type (a new handle to self when it already matches).</summary>
    public Tensor To(ScalarType dtype) => A("aten::to.dtype").Invoke(this, dtype, false, false);
    /// <summary>Moves to a device.</summary>
    public Tensor To(Device device, bool nonBlocking = false) =>
        A("aten::to.device").Invoke(this, device, DType, nonBlocking, false);
    /// <summary>Moves to a device and converts the element type.</summary>
    public Tensor To(Device device, ScalarType dtype, bool nonBlocking = false) =>
        A("aten::to.device").Invoke(this, device, dtype, nonBlocking, false);
    /// <summary>float32 copy.</summary>
    public Tensor Float() => To(ScalarType.Float32);
    /// <summary>float64 copy.</summary>
    public Tensor Double() => To(ScalarType.Float64);
    /// <summary>int64 copy.</summary>
    public Tensor Long() => To(ScalarType.Int64);

    // joining (static, like torch.cat)
    /// <summary>Concatenates along an existing dimension.</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, long dim = 0) => A("aten::cat").Invoke(tensors.ToArray(), dim);
    /// <summary>Stacks along a new dimension.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, long dim = 0) => A("aten::stack").Invoke(tensors.ToArray(), dim);
}

public partial class Tensor
{
    /// <summary>A new handle to the same tensor (a view of everything).</summary>
    public Tensor Alias() => A("aten::alias").Invoke(this);
}
