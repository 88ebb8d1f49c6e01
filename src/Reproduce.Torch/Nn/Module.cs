using Reproduce.Torch.Native;

namespace Reproduce.Torch.Nn;

/// <summary>Result of <see cref="Module.LoadStateDict"/>: keys the module had that the file lacked, and the reverse.</summary>
public sealed record LoadResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);

/// <summary>
/// A network component with explicitly named parameters, buffers and children. Names form the
/// state-dict keys, chosen to match timm (<c>blocks.0.attn.qkv.weight</c>) so checkpoints load by name.
/// Disabled features should be <see cref="Nn.Identity"/> children so keys stay stable.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<(string Name, Parameter? Value)> _parameters = [];
    private readonly List<(string Name, Tensor Value, bool Persistent)> _buffers = [];
    private readonly List<(string Name, Module Value)> _children = [];

    /// <summary>True in training mode (dropout, drop path, batch statistics active).</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Registers a parameter initialised from <paramref name="data"/>.</summary>
    protected Parameter RegisterParameter(string name, Tensor data, bool requiresGrad = true)
    {
        var p = new Parameter(data, requiresGrad);
        AddParameter(name, p);
        return p;
    }

    /// <summary>Registers an existing parameter, or a named absent one (null), e.g. a disabled bias.</summary>
    protected Parameter? RegisterParameter(string name, Parameter? parameter)
    {
        AddParameter(name, parameter);
        return parameter;
    }

    private void AddParameter(string name, Parameter? p)
    {
        CheckName(name);
        _parameters.Add((name, p));
    }

    /// <summary>Registers a buffer (state that is not trained: running statistics, fixed tables).</summary>
    protected Tensor RegisterBuffer(string name, Tensor data, bool persistent = true)
    {
        CheckName(name);
        var t = new Tensor(data.Detach().StealHandle(), "buffer", scoped: false);
        _buffers.Add((name, t, persistent));
        return t;
    }

    /// <summary>Registers a child module under <paramref name="name"/>.</summary>
    protected T Register<T>(string name, T child) where T : Module
    {
        CheckName(name);
        _children.Add((name, child));
        child.Training = Training;
        return child;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: invalid member name '{name}' (non-empty, no dots)");
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _children.Any(c => c.Name == name))
            throw new ArgumentException($"{GetType().Name}: member '{name}' is already registered");
    }

    /// <summary>Direct children in registration order.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children;

    /// <summary>This module ("") and every descendant with its dotted path.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (n, c) in _children)
            foreach (var x in c.NamedModules(Join(prefix, n)))
                yield return x;
    }

    /// <summary>Parameters with dotted names, this module's own first, then each child's.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        foreach (var (prefix, m) in NamedModules())
            foreach (var (n, p) in m._parameters)
                if (p is not null) yield return (Join(prefix, n), p);
    }

    /// <summary>All parameters.</summary>
    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(x => x.Parameter);

    /// <summary>
    /// Names (or fnmatch patterns) of parameters that must not get weight decay beyond the 1-d/bias rule of
    /// <see cref="Optim.ParamGroups.WeightDecayExclusion"/>, as timm's <c>model.no_weight_decay()</c>: a model
    /// declares its own, so the optimizer needs no list of architecture names. None by default, as timm for a
    /// model without the method.
    /// </summary>
    public virtual IReadOnlyCollection<string> NoWeightDecay() => [];

    /// <summary>Buffers with dotted names (persistent and not).</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(bool persistentOnly = false)
    {
        foreach (var (prefix, m) in NamedModules())
            foreach (var (n, b, persistent) in m._buffers)
                if (persistent || !persistentOnly) yield return (Join(prefix, n), b);
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Number of trainable parameter elements.</summary>
    public long ParameterCount() => Parameters().Sum(p => p.Numel);

    /// <summary>Sets training mode here and in every descendant.</summary>
    public virtual Module Train(bool mode = true)
    {
        Training = mode;
        foreach (var (_, c) in _children) c.Train(mode);
        return this;
    }

    /// <summary>Evaluation mode.</summary>
    public Module Eval() => Train(false);

    /// <summary>Drops (or zeroes) every parameter's gradient.</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in Parameters()) p.ZeroGrad(setToNone);
    }

    /// <summary>
    /// Parameters and persistent buffers by key, in PyTorch's order. The tensors are detached aliases
    /// (sharing storage) created in the current scope.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var (prefix, m) in NamedModules())
        {
            foreach (var (n, p) in m._parameters)
                if (p is not null) d[Join(prefix, n)] = p.Detach();
            foreach (var (n, b, persistent) in m._buffers)
                if (persistent) d[Join(prefix, n)] = b.Detach();
        }
        return d;
    }

    /// <summary>
    /// Copies values from <paramref name="state"/> into parameters and buffers by key. A shape mismatch
    /// always throws, naming the key and both shapes; with <paramref name="strict"/>, missing or
    /// unexpected keys throw too, listing them.
    /// </summary>
    public LoadResult LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var targets = new Dictionary<string, Tensor>();
        foreach (var (n, p) in NamedParameters()) targets[n] = p;
        foreach (var (n, b) in NamedBuffers(persistentOnly: true)) targets[n] = b;
        var missing = targets.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !targets.ContainsKey(k)).ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
            throw new TorchException($"LoadStateDict({GetType().Name}): missing keys [{string.Join(", ", missing)}]; unexpected keys [{string.Join(", ", unexpected)}]");
        foreach (var (key, target) in targets)
        {
            if (!state.TryGetValue(key, out var src)) continue;
            var ts = target.Shape;
            var ss = src.Shape;
            if (!ts.SequenceEqual(ss))
                throw new TorchException($"LoadStateDict({GetType().Name}): '{key}' has shape {Tensor.FormatShape(ss)} in the state dict but {Tensor.FormatShape(ts)} in the module");
        }
        using (Torch.NoGrad())
            foreach (var (key, target) in targets)
                if (state.TryGetValue(key, out var src)) target.Copy_(src);
        return new LoadResult(missing, unexpected);
    }

    /// <summary>Moves parameters and buffers to a device (identity preserved).</summary>
    public Module To(Device device) => Convert(t => t.To(device));

    /// <summary>Converts floating-point parameters and buffers to <paramref name="dtype"/>.</summary>
    public Module To(ScalarType dtype) => Convert(t => t.DType.IsFloatingPoint() ? t.To(dtype) : t.Alias());

    private Module Convert(Func<Tensor, Tensor> f)
    {
        using var scope = Scope.Enter();
        using var _ = Torch.NoGrad();
        foreach (var p in Parameters()) p.SetData(f(p));
        foreach (var (_, b) in NamedBuffers())
            NativeMethods.Check(NativeMethods.rn_tensor_set_data(b.Handle, f(b).Handle), "Module.To");
        return this;
    }

    /// <summary>Frees every parameter and buffer of this module and its descendants.</summary>
    public void Dispose()
    {
        foreach (var (_, m) in NamedModules())
        {
            foreach (var (_, p) in m._parameters) p?.Dispose();
            foreach (var (_, b, _) in m._buffers) b.Dispose();
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>A module with a typed forward pass.</summary>
public abstract class Module<TIn, TOut> : Module
{
    /// <summary>The forward computation.</summary>
    public abstract TOut Forward(TIn input);
}
