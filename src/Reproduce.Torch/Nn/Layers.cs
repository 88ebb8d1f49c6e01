namespace Reproduce.Torch.Nn;

/// <summary>y = x·Wᵀ + b; weight [out, in]. PyTorch's default init: U(±1/√in) for both.</summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    /// <summary>Weight [out, in].</summary>
    public Parameter Weight { get; }
    /// <summary>Bias [out], or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Creates the layer with PyTorch's default initialisation.</summary>
    public Linear(long inFeatures, long outFeatures, bool bias = true, Device? device = null)
    {
        using var s = Scope.Enter();
        var bound = 1 / Math.Sqrt(inFeatures);
        Weight = RegisterParameter("weight", Torch.Empty([outFeatures, inFeatures], device: device).Uniform_(-bound, bound));
        Bias = bias ? RegisterParameter("bias", Torch.Empty([outFeatures], device: device).Uniform_(-bound, bound)) : RegisterParameter("bias", (Parameter?)null);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Linear(input, Weight, Bias);
}

/// <summary>2-d convolution; weight [out, in/groups, k, k].</summary>
public sealed class Conv2d : Module<Tensor, Tensor>
{
    private readonly long[] _stride, _padding, _dilation;
    private readonly long _groups;
    /// <summary>Weight [out, in/groups, kh, kw].</summary>
    public Parameter Weight { get; }
    /// <summary>Bias [out], or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Creates the layer with PyTorch's default initialisation (U(±1/√fan_in)).</summary>
    public Conv2d(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true, Device? device = null)
    {
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: channels {inChannels}→{outChannels} are not divisible by groups={groups}");
        using var s = Scope.Enter();
        _stride = [stride, stride];
        _padding = [padding, padding];
        _dilation = [dilation, dilation];
        _groups = groups;
        var bound = 1 / Math.Sqrt(inChannels / groups * kernel * kernel);
        Weight = RegisterParameter("weight", Torch.Empty([outChannels, inChannels / groups, kernel, kernel], device: device).Uniform_(-bound, bound));
        Bias = bias ? RegisterParameter("bias", Torch.Empty([outChannels], device: device).Uniform_(-bound, bound)) : RegisterParameter("bias", (Parameter?)null);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Conv2d(input, Weight, Bias, _stride, _padding, _dilation, _groups);
}

/// <summary>1-d convolution; weight [out, in/groups, k].</summary>
public sealed class Conv1d : Module<Tensor, Tensor>
{
    private readonly long _stride, _padding, _dilation, _groups;
    /// <summary>Weight [out, in/groups, k].</summary>
    public Parameter Weight { get; }
    /// <summary>Bias [out], or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Creates the layer with PyTorch's default initialisation.</summary>
    public Conv1d(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true, Device? device = null)
    {
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv1d: channels {inChannels}→{outChannels} are not divisible by groups={groups}");
        using var s = Scope.Enter();
        (_stride, _padding, _dilation, _groups) = (stride, padding, dilation, groups);
        var bound = 1 / Math.Sqrt(inChannels / groups * kernel);
        Weight = RegisterParameter("weight", Torch.Empty([outChannels, inChannels / groups, kernel], device: device).Uniform_(-bound, bound));
        Bias = bias ? RegisterParameter("bias", Torch.Empty([outChannels], device: device).Uniform_(-bound, bound)) : RegisterParameter("bias", (Parameter?)null);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Conv1d(input, Weight, Bias, _stride, _padding, _dilation, _groups);
}

/// <summary>LayerNorm over the last dimension(s), weight ones and bias zeros.</summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    private readonly long[] _shape;
    private readonly double _eps;
    /// <summary>Scale γ, or null without affine.</summary>
    public Parameter? Weight { get; }
    /// <summary>Shift β, or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Normalises the trailing dimension of size <paramref name="dim"/>.</summary>
    public LayerNorm(long dim, double eps = 1e-5, bool affine = true, Device? device = null)
    {
        using var s = Scope.Enter();
        _shape = [dim];
        _eps = eps;
        Weight = affine ? RegisterParameter("weight", Torch.Ones([dim], device: device)) : null;
        Bias = affine ? RegisterParameter("bias", Torch.Zeros([dim], device: device)) : null;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.LayerNorm(input, _shape, Weight, Bias, _eps);
}

/// <summary>BatchNorm over channels of [N,C,H,W] with running statistics (keys as PyTorch).</summary>
public sealed class BatchNorm2d : Module<Tensor, Tensor>
{
    private readonly double _eps, _momentum;
    /// <summary>Scale γ.</summary>
    public Parameter Weight { get; }
    /// <summary>Shift β.</summary>
    public Parameter Bias { get; }
    /// <summary>Running mean.</summary>
    public Tensor RunningMean { get; }
    /// <summary>Running (unbiased) variance.</summary>
    public Tensor RunningVar { get; }
    /// <summary>Batches seen in training.</summary>
    public Tensor NumBatchesTracked { get; }

    /// <summary>
    /// The data-parallel group whose global batch gives the training statistics (<see cref="Distributed.SyncBatchNorm"/>,
    /// set by <see cref="Distributed.SyncBatchNorm.Convert"/>); null = this process's batch alone.
    /// </summary>
    public Distributed.ProcessGroup? SyncGroup { get; set; }

    /// <summary>Creates the layer: γ = 1, β = 0, mean 0, var 1.</summary>
    public BatchNorm2d(long channels, double eps = 1e-5, double momentum = 0.1, Device? device = null)
    {
        using var s = Scope.Enter();
        (_eps, _momentum) = (eps, momentum);
        Weight = RegisterParameter("weight", Torch.Ones([channels], device: device));
        Bias = RegisterParameter("bias", Torch.Zeros([channels], device: device));
        RunningMean = RegisterBuffer("running_mean", Torch.Zeros([channels], device: device));
        RunningVar = RegisterBuffer("running_var", Torch.Ones([channels], device: device));
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", Torch.Zeros([], ScalarType.Int64, device));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        var shape = input.Shape;
        if (shape.Length != 4) throw new ArgumentException($"BatchNorm2d expects [N,C,H,W], got {input.Describe()}");
        if (Training)
            using (Torch.NoGrad()) NumBatchesTracked.Add_(1L);
        if (Training && SyncGroup is { WorldSize: > 1 } group) return Distributed.SyncBatchNorm.Forward(this, input, group, _momentum, _eps);
        return F.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, Training, _momentum, _eps);
    }
}

/// <summary>GroupNorm over channel groups.</summary>
public sealed class GroupNorm : Module<Tensor, Tensor>
{
    private readonly long _groups;
    private readonly double _eps;
    /// <summary>Scale γ.</summary>
    public Parameter Weight { get; }
    /// <summary>Shift β.</summary>
    public Parameter Bias { get; }

    /// <summary>Creates the layer: γ = 1, β = 0.</summary>
    public GroupNorm(long groups, long channels, double eps = 1e-5, Device? device = null)
    {
        if (channels % groups != 0) throw new ArgumentException($"GroupNorm: {channels} channels are not divisible into {groups} groups");
        using var s = Scope.Enter();
        (_groups, _eps) = (groups, eps);
        Weight = RegisterParameter("weight", Torch.Ones([channels], device: device));
        Bias = RegisterParameter("bias", Torch.Zeros([channels], device: device));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.GroupNorm(input, _groups, Weight, Bias, _eps);
}

/// <summary>Dropout with probability p (identity in eval).</summary>
public sealed class Dropout(double p = 0.5) : Module<Tensor, Tensor>
{
    /// <summary>Drop probability.</summary>
    public double P { get; } = p;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Dropout(input, P, Training);
}

/// <summary>
/// Stochastic depth (timm's DropPath): drops the whole residual branch per sample with probability p,
/// scaling kept samples by 1/(1−p).
/// </summary>
public sealed class DropPath(double p = 0, bool scaleByKeep = true) : Module<Tensor, Tensor>
{
    /// <summary>Drop probability.</summary>
    public double P { get; } = p;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (P == 0 || !Training) return input.Alias();
        using var s = Scope.Enter();
        var shape = new long[input.Dim];
        Array.Fill(shape, 1L);
        shape[0] = input.Size(0);
        var keep = 1 - P;
        var mask = input.NewEmpty(shape).Bernoulli_(keep);
        if (keepScale) mask.Div_(keep);
        return s.MoveOut(input.Mul(mask));
    }

    private readonly bool keepScale = scaleByKeep;
}

/// <summary>Returns its input (stands in for disabled features so keys stay stable).</summary>
public sealed class Identity : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Alias();
}

/// <summary>GELU activation.</summary>
public sealed class Gelu(bool tanhApproximation = false) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Gelu(input, tanhApproximation);
}

/// <summary>ReLU activation.</summary>
public sealed class Relu : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Relu(input);
}

/// <summary>Children applied in order; keys "0", "1", ...</summary>
public sealed class Sequential : Module<Tensor, Tensor>
{
    private readonly List<Module<Tensor, Tensor>> _layers = [];

    /// <summary>Creates the sequence.</summary>
    public Sequential(params Module<Tensor, Tensor>[] layers)
    {
        foreach (var l in layers) Add(l);
    }

    /// <summary>Appends a layer.</summary>
    public void Add(Module<Tensor, Tensor> layer) => _layers.Add(Register(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer));

    /// <summary>Layer count.</summary>
    public int Count => _layers.Count;

    /// <summary>Layer by position.</summary>
    public Module<Tensor, Tensor> this[int i] => _layers[i];

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        using var s = Scope.Enter();
        var x = input;
        foreach (var l in _layers) x = l.Forward(x);
        return ReferenceEquals(x, input) ? s.MoveOut(input.Alias()) : s.MoveOut(x);
    }
}

/// <summary>An indexable list of child modules; keys "0", "1", ...</summary>
public sealed class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    private readonly List<T> _items = [];

    /// <summary>Creates the list.</summary>
    public ModuleList(IEnumerable<T>? items = null)
    {
        foreach (var m in items ?? []) Add(m);
    }

    /// <summary>Appends a module.</summary>
    public void Add(T module) => _items.Add(Register(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module));

    /// <inheritdoc/>
    public T this[int index] => _items[index];

    /// <inheritdoc/>
    public int Count => _items.Count;

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
