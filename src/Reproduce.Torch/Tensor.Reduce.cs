namespace Reproduce.Torch;

// Reductions, sorting and selection, scatter/gather, matrix products.
public partial class Tensor
{
    /// <summary>Sum of all elements.</summary>
    public Tensor Sum(ScalarType? dtype = null) => A("aten::sum").Invoke(this, dtype);
    /// <summary>Sum over dimensions.</summary>
    public Tensor Sum(long[] dims, bool keepDim = false, ScalarType? dtype = null) => A("aten::sum.dim_IntList").Invoke(this, dims, keepDim, dtype);
    /// <summary>Sum over one dimension.</summary>
    public Tensor Sum(long dim, bool keepDim = false) => Sum([dim], keepDim);
    /// <summary>Sum over one dimension. (An exact <c>int</c> overload: without it a literal <c>Sum(0)</c>
    /// binds to <see cref="Sum(ScalarType?)"/> through C#'s constant-zero enum conversion, i.e. a uint8 sum.)</summary>
    public Tensor Sum(int dim, bool keepDim = false) => Sum([(long)dim], keepDim);
    /// <summary>Mean of all elements.</summary>
    public Tensor Mean(ScalarType? dtype = null) => A("aten::mean").Invoke(this, dtype);
    /// <summary>Mean over dimensions.</summary>
    public Tensor Mean(long[] dims, bool keepDim = false) => A("aten::mean.dim").Invoke(this, dims, keepDim);
    /// <summary>Mean over one dimension.</summary>
    public Tensor Mean(long dim, bool keepDim = false) => Mean([dim], keepDim);
    /// <summary>Mean over one dimension (exact <c>int</c> overload, so <c>Mean(0)</c> is not <see cref="Mean(ScalarType?)"/>).</summary>
    public Tensor Mean(int dim, bool keepDim = false) => Mean([(long)dim], keepDim);
    /// <summary>Product of all elements.</summary>
    public Tensor Prod() => A("aten::prod").Invoke(this);
    /// <summary>Standard deviation over dimensions (Bessel-corrected when <paramref name="unbiased"/>).</summary>
    public Tensor Std(long[] dims, bool unbiased = true, bool keepDim = false) => A("aten::std.dim").Invoke(this, dims, unbiased, keepDim);
    /// <summary>Variance over dimensions.</summary>
    public Tensor Var(long[] dims, bool unbiased = true, bool keepDim = false) => A("aten::var.dim").Invoke(this, dims, unbiased, keepDim);
    /// <summary>Largest element.</summary>
    public Tensor Max() => A("aten::max").Invoke(this);
    /// <summary>Smallest element.</summary>
    public Tensor Min() => A("aten::min").Invoke(this);
    /// <summary>Max values and indices along a dimension.</summary>
    public (Tensor Values, Tensor Indices) Max(long dim, bool keepDim = false) => A("aten::max.dim").Invoke2(this, dim, keepDim);
    /// <summary>Min values and indices along a dimension.</summary>
    public (Tensor Values, Tensor Indices) Min(long dim, bool keepDim = false) => A("aten::min.dim").Invoke2(this, dim, keepDim);
    /// <summary>Max over dimensions (values only; gradient spread evenly over ties).</summary>
    public Tensor Amax(long[] dims, bool keepDim = false) => A("aten::amax").Invoke(this, dims, keepDim);
    /// <summary>Min over dimensions.</summary>
    public Tensor Amin(long[] dims, bool keepDim = false) => A("aten::amin").Invoke(this, dims, keepDim);
    /// <summary>Index of the max (over all elements when <paramref name="dim"/> is null).</summary>
    public Tensor Argmax(long? dim = null, bool keepDim = false) => A("aten::argmax").Invoke(this, dim, keepDim);
    /// <summary>Index of the min.</summary>
    public Tensor Argmin(long? dim = null, bool keepDim = false) => A("aten::argmin").Invoke(this, dim, keepDim);
    /// <summary>log Σ exp over dimensions, computed stably.</summary>
    public Tensor LogSumExp(long[] dims, bool keepDim = false) => A("aten::logsumexp").Invoke(this, dims, keepDim);
    /// <summary>Cumulative sum.</summary>
    public Tensor CumSum(long dim) => A("aten::cumsum").Invoke(this, dim);
    /// <summary>Vector p-norm over dimensions (all when null).</summary>
    public Tensor Norm(double p = 2, long[]? dims = null, bool keepDim = false) => A("aten::linalg_vector_norm").Invoke(this, p, dims, keepDim);
    /// <summary>True if every element is non-zero.</summary>
    public Tensor All() => A("aten::all").Invoke(this);
    /// <summary>True if any element is non-zero.</summary>
    public Tensor Any() => A("aten::any").Invoke(this);

    /// <summary>The k largest (or smallest) values and their indices along a dimension.</summary>
    public (Tensor Values, Tensor Indices) TopK(long k, long dim = -1, bool largest = true, bool sorted = true) =>
        A("aten::topk").Invoke2(this, k, dim, largest, sorted);
    /// <summary>Sorted values and indices.</summary>
    public (Tensor Values, Tensor Indices) Sort(long dim = -1, bool descending = false) => A("aten::sort").Invoke2(this, dim, descending);
    /// <summary>Indices that sort along a dimension.</summary>
    public Tensor Argsort(long dim = -1, bool descending = false) => A("aten::argsort").Invoke(this, dim, descending);

    /// <summary>out[i][j] = self[i][index[i][j]] along <paramref name="dim"/>.</summary>
    public Tensor Gather(long dim, Tensor index) => A("aten::gather").Invoke(this, dim, index);
    /// <summary>Writes <paramref name="src"/> at <paramref name="index"/> along <paramref name="dim"/> (out of place).</summary>
    public Tensor Scatter(long dim, Tensor index, Tensor src) => A("aten::scatter.src").Invoke(this, dim, index, src);
    /// <summary>Writes a constant at <paramref name="index"/>.</summary>
    public Tensor Scatter(long dim, Tensor index, double value) => A("aten::scatter.value").Invoke(this, dim, index, value);
    /// <summary>Adds <paramref name="src"/> at <paramref name="index"/>.</summary>
    public Tensor ScatterAdd(long dim, Tensor index, Tensor src) => A("aten::scatter_add").Invoke(this, dim, index, src);
    /// <summary>Reduces <paramref name="src"/> into self at index with "sum", "prod", "mean", "amax" or "amin".</summary>
    public Tensor ScatterReduce(long dim, Tensor index, Tensor src, string reduce, bool includeSelf = true) =>
        A("aten::scatter_reduce.two").Invoke(this, dim, index, src, reduce, includeSelf);
    /// <summary>In place scatter of <paramref name="src"/>.</summary>
    public Tensor Scatter_(long dim, Tensor index, Tensor src) => A("aten::scatter_.src").InvokeInPlace(this, dim, index, src);
    /// <summary>In place scatter-add.</summary>
    public Tensor ScatterAdd_(long dim, Tensor index, Tensor src) => A("aten::scatter_add_").InvokeInPlace(this, dim, index, src);
    /// <summary>Counts of each value in a 1-d non-negative int tensor.</summary>
    public Tensor Bincount(long minLength = 0) => A("aten::bincount").Invoke(this, Arg.None, minLength);

    /// <summary>Matrix product with broadcasting (torch.matmul).</summary>
    public Tensor Matmul(Tensor other) => A("aten::matmul").Invoke(this, other);
    /// <summary>2-d matrix product.</summary>
    public Tensor Mm(Tensor other) => A("aten::mm").Invoke(this, other);
    /// <summary>Batched matrix product.</summary>
    public Tensor Bmm(Tensor other) => A("aten::bmm").Invoke(this, other);
}
