using Reproduce.Torch;
using Reproduce.Torch.Distributed;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// The centre c of DINO/iBOT's teacher centering (dinov2 <c>DINOLoss</c> and <c>iBOTPatchLoss</c>): teacher outputs
/// are centred and sharpened, p = softmax((t − c) / τ_t), and after each step the centre follows the teacher's batch
/// mean by an exponential moving average,
/// <code>c ← m·c + (1 − m)·(Σ_rows t) / (rows · world size)</code>
/// with momentum m (0.9 in DINOv2). The reference folds a step's update in lazily, at the start of the next
/// step's softmax; <see cref="Update"/> applies it at once, which gives the same centre at every softmax because
/// nothing reads the centre in between.
/// </summary>
public sealed class TeacherCenter : IDisposable
{
    private Tensor _center;

    /// <summary>A zero centre [1, <paramref name="dim"/>].</summary>
    public TeacherCenter(long dim, double momentum = 0.9, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        if (momentum is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "centre momentum must lie in [0, 1]");
        Momentum = momentum;
        _center = Torch.Torch.Zeros([1, dim], dtype, device).DetachFromScope();
    }

    /// <summary>Momentum m of the moving average.</summary>
    public double Momentum { get; }

    /// <summary>The centre [1, K] (owned by this object).</summary>
    public Tensor Center => _center;

    /// <summary>softmax((t − c) / τ) over the last dimension, without autograd; <paramref name="teacherOutput"/> is [..., K].</summary>
    public Tensor SoftmaxCentered(Tensor teacherOutput, double temperature)
    {
        ArgumentNullException.ThrowIfNull(teacherOutput);
        CheckTemperature(temperature);
        if (teacherOutput.Size(-1) != _center.Size(1))
            throw new ArgumentException($"teacher centering: output {teacherOutput.Describe()} does not end in the centre's {_center.Size(1)} prototypes");
        using var noGrad = Torch.Torch.NoGrad();
        return F.Softmax(teacherOutput.Sub(_center).Div(temperature), -1);
    }

    /// <summary>
    /// c ← m·c + (1 − m)·<paramref name="batchSum"/> / (<paramref name="rows"/> · world size), where
    /// <paramref name="batchSum"/> [1, K] is this rank's sum of teacher rows and is summed over <paramref name="group"/>.
    /// </summary>
    public void Update(Tensor batchSum, long rows, ProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(batchSum);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        if (!batchSum.Shape.SequenceEqual(_center.Shape))
            throw new ArgumentException($"teacher centering: batch sum {batchSum.Describe()} must have the centre's shape [1, {_center.Size(1)}]");
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = Scope.Enter();
        var sum = batchSum.Detach().To(_center.DType).Contiguous().Clone();
        var world = 1;
        if (group is not null)
        {
            using var work = group.AllReduce(sum);
            work.Wait();
            world = group.WorldSize;
        }
        _center.Mul_(Momentum).Add_(sum.Div((double)rows * world), 1 - Momentum);
    }

    /// <summary>
    /// c ← m·c + (1 − m)·(Σ over the ranks of <paramref name="batchSum"/>) / <paramref name="totalRows"/>: the EMA
    /// towards the mean of rows counted over every rank (ranks may hold different numbers of rows).
    /// </summary>
    public void UpdateMean(Tensor batchSum, double totalRows, ProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(batchSum);
        if (!(totalRows > 0)) throw new ArgumentOutOfRangeException(nameof(totalRows), totalRows, "teacher centering: the row count must be positive");
        if (!batchSum.Shape.SequenceEqual(_center.Shape))
            throw new ArgumentException($"teacher centering: batch sum {batchSum.Describe()} must have the centre's shape [1, {_center.Size(1)}]");
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = Scope.Enter();
        var sum = batchSum.Detach().To(_center.DType).Contiguous().Clone();
        if (group is not null)
        {
            using var work = group.AllReduce(sum);
            work.Wait();
        }
        _center.Mul_(Momentum).Add_(sum.Div(totalRows), 1 - Momentum);
    }

    /// <summary>Replaces the centre (resume); <paramref name="center"/> must be [1, K].</summary>
    public void Load(Tensor center)
    {
        ArgumentNullException.ThrowIfNull(center);
        if (!center.Shape.SequenceEqual(_center.Shape))
            throw new ArgumentException($"teacher centering: cannot load {center.Describe()} into a centre of shape [1, {_center.Size(1)}]");
        using var noGrad = Torch.Torch.NoGrad();
        _center.Copy_(center);
    }

    internal static void CheckTemperature(double temperature)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be positive and finite");
    }

    /// <inheritdoc/>
    public void Dispose() => _center.Dispose();
}
