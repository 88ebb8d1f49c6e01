using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Optim;

/// <summary>
/// Base of the optimizers: parameter groups, per-parameter state, <see cref="Step"/> under no-grad in a
/// scope (so temporaries never outlive a step), and a checkpointable <see cref="StateDict"/>.
/// Parameters are updated in place; a parameter without a gradient is skipped, as in PyTorch.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly List<ParamGroup> _groups;
    private readonly Dictionary<Parameter, int> _index = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<int, ParamState> _state = [];
    private bool _disposed;

    /// <summary>Adopts <paramref name="groups"/>, filling unset values from the defaults.</summary>
    /// <param name="groups">Parameter groups; a parameter may appear in only one.</param>
    /// <param name="lr">Default learning rate.</param>
    /// <param name="weightDecay">Default weight decay.</param>
    /// <param name="defaults">Default optimizer-specific options (also fixes the options type every group must use).</param>
    protected Optimizer(IEnumerable<ParamGroup> groups, double lr, double weightDecay, OptimizerOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(defaults);
        _groups = groups.ToList();
        if (_groups.Count == 0) throw new ArgumentException($"{GetType().Name}: no parameter groups given", nameof(groups));
        var n = 0;
        foreach (var g in _groups)
        {
            g.Adopt(lr, weightDecay, defaults);
            if (g.Options!.GetType() != defaults.GetType())
                throw new ArgumentException($"{GetType().Name}: group '{g.Name}' carries {g.Options.GetType().Name} but this optimizer takes {defaults.GetType().Name}");
            foreach (var p in g.Parameters)
                if (!_index.TryAdd(p, n++))
                    throw new ArgumentException($"{GetType().Name}: a parameter ({p.Describe()}) appears in more than one group or twice in a group");
        }
    }

    /// <summary>The parameter groups, in order.</summary>
    public IReadOnlyList<ParamGroup> Groups => _groups;

    /// <summary>All parameters, numbered in this order in the state dict.</summary>
    public IEnumerable<Parameter> Parameters => _groups.SelectMany(g => g.Parameters);

    /// <summary>Clears every parameter's gradient: drops it (<paramref name="setToNone"/>, PyTorch 2's default) or zeroes it.</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in Parameters) p.ZeroGrad(setToNone);
    }

    /// <summary>One update of every parameter that has a gradient (no autograd recording; temporaries freed on return).</summary>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var noGrad = Torch.NoGrad();
        using var scope = Scope.Enter();
        StepCore();
    }

    /// <summary>The update itself; runs under no-grad inside a scope that frees every temporary.</summary>
    protected abstract void StepCore();

    /// <summary>The options of <paramref name="group"/> as this optimizer's record type.</summary>
    protected static T OptionsOf<T>(ParamGroup group) where T : OptimizerOptions =>
        group.Options as T ?? throw new InvalidOperationException($"parameter group '{group.Name}' has options {group.Options?.GetType().Name ?? "null"}, expected {typeof(T).Name}");

    /// <summary>The state of <paramref name="p"/>, created empty on first use.</summary>
    protected ParamState StateOf(Parameter p)
    {
        var i = _index[p];
        if (!_state.TryGetValue(i, out var s)) _state[i] = s = new ParamState();
        return s;
    }

    /// <summary>Hook: writes optimizer-specific scalar state of group <paramref name="groupIndex"/> (e.g. a group step count).</summary>
    protected virtual void WriteGroupState(int groupIndex, JsonObject group) { }

    /// <summary>Hook: restores what <see cref="WriteGroupState"/> wrote.</summary>
    protected virtual void ReadGroupState(int groupIndex, JsonObject group) { }

    // ---- checkpoints --------------------------------------------------------------------------------

    /// <summary>
    /// The optimizer's state: per-parameter tensors as <c>state.{index}.{name}</c> (detached aliases created
    /// in the current scope, sharing storage with the live state) and the rest as JSON
    /// (see <see cref="OptimizerState"/> for the layout).
    /// </summary>
    public OptimizerState StateDict()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var groups = new JsonArray();
        var n = 0;
        for (var gi = 0; gi < _groups.Count; gi++)
        {
            var g = _groups[gi];
            var json = new JsonObject
            {
                ["name"] = g.Name,
                ["lr"] = g.Lr,
                ["initial_lr"] = g.InitialLr,
                ["weight_decay"] = g.WeightDecay,
                ["lr_scale"] = g.LrScale,
                ["options"] = JsonSerializer.SerializeToNode(g.Options, g.Options!.GetType()),
                ["params"] = new JsonArray(Enumerable.Range(n, g.Parameters.Count).Select(i => (JsonNode)i).ToArray()),
            };
            n += g.Parameters.Count;
            WriteGroupState(gi, json);
            groups.Add(json);
        }
        var state = new JsonObject();
        foreach (var (i, s) in _state.OrderBy(kv => kv.Key))
        {
            var entry = new JsonObject();
            if (s.Step is { } step) entry["step"] = step;
            state[i.ToString(CultureInfo.InvariantCulture)] = entry;
            foreach (var (name, t) in s.Tensors) tensors[$"state.{i}.{name}"] = t.Detach();
        }
        return new OptimizerState(tensors, new JsonObject
        {
            ["optimizer"] = GetType().Name,
            ["param_groups"] = groups,
            ["state"] = state,
        });
    }

    /// <summary>
    /// Restores a <see cref="StateDict"/> taken from an optimizer of the same type over parameters of the same
    /// group structure and shapes: group hyperparameters, scalar state and copies of the state tensors
    /// (moved to each parameter's device; floating state converted to its dtype). Training then continues
    /// exactly as the saved optimizer would have.
    /// </summary>
    public void LoadStateDict(OptimizerState saved)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(saved);
        var who = $"{GetType().Name}.LoadStateDict";
        var meta = saved.Meta;
        if ((string?)meta["optimizer"] != GetType().Name)
            throw new TorchException($"{who}: the state was saved by '{(string?)meta["optimizer"]}'");
        var groups = meta["param_groups"] as JsonArray ?? throw new TorchException($"{who}: no param_groups");
        if (groups.Count != _groups.Count)
            throw new TorchException($"{who}: the state has {groups.Count} parameter groups but this optimizer has {_groups.Count}");
        var parameters = Parameters.ToArray();
        var n = 0;
        for (var gi = 0; gi < groups.Count; gi++)
        {
            var json = groups[gi] as JsonObject ?? throw new TorchException($"{who}: group {gi} is not an object");
            var ids = (json["params"] as JsonArray)?.Select(x => (int)x!).ToArray() ?? throw new TorchException($"{who}: group {gi} lists no params");
            if (!ids.SequenceEqual(Enumerable.Range(n, _groups[gi].Parameters.Count)))
                throw new TorchException($"{who}: group {gi} has {ids.Length} parameters in the state but {_groups[gi].Parameters.Count} here");
            n += ids.Length;
        }

        // Parse and copy everything before touching live state, so a bad state leaves the optimizer as it was.
        var newState = new Dictionary<int, ParamState>();
        var entries = meta["state"] as JsonObject ?? throw new TorchException($"{who}: no state");
        try
        {
            foreach (var (key, value) in entries)
            {
                if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) || i >= parameters.Length)
                    throw new TorchException($"{who}: state entry '{key}' names no parameter (there are {parameters.Length})");
                newState[i] = new ParamState { Step = value?["step"] is { } step ? (long)step : null };
            }
            foreach (var (key, src) in saved.Tensors)
            {
                var parts = key.Split('.');
                if (parts.Length != 3 || parts[0] != "state" || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var i) || !newState.TryGetValue(i, out var ps))
                    throw new TorchException($"{who}: unexpected tensor '{key}' (expected state.{{index}}.{{name}} for a parameter with a state entry)");
                var p = parameters[i];
                if (!src.Shape.SequenceEqual(p.Shape))
                    throw new TorchException($"{who}: '{key}' has shape {Tensor.FormatShape(src.Shape)} but parameter {i} has {Tensor.FormatShape(p.Shape)}");
                var dtype = src.DType.IsFloatingPoint() ? p.DType : src.DType;
                using (Torch.NoGrad())
                    ps.Tensors[parts[2]] = Op.Get("aten::to.device").Invoke(src, p.Device, dtype, false, true).DetachFromScope();
            }
        }
        catch
        {
            foreach (var s in newState.Values) s.Dispose();
            throw;
        }

        for (var gi = 0; gi < groups.Count; gi++)
        {
            var json = (JsonObject)groups[gi]!;
            var g = _groups[gi];
            g.Lr = (double)json["lr"]!;
            g.InitialLr = (double)json["initial_lr"]!;
            g.WeightDecay = (double)json["weight_decay"]!;
            g.LrScale = (double)json["lr_scale"]!;
            g.Options = (OptimizerOptions?)json["options"].Deserialize(g.Options!.GetType())
                        ?? throw new TorchException($"{who}: group {gi} has no options");
            ReadGroupState(gi, json);
        }
        foreach (var s in _state.Values) s.Dispose();
        _state.Clear();
        foreach (var (i, s) in newState) _state[i] = s;
    }

    /// <summary>Frees the state tensors (parameters belong to their modules and are left alone).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var s in _state.Values) s.Dispose();
        _state.Clear();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// The state an optimizer keeps for one parameter: named tensors it owns (never scope-owned) and an
/// optional per-parameter step count (AdamW's <c>step</c>).
/// </summary>
public sealed class ParamState : IDisposable
{
    internal Dictionary<string, Tensor> Tensors { get; } = new(StringComparer.Ordinal);

    /// <summary>Per-parameter step count, or null for optimizers that keep none.</summary>
    public long? Step { get; set; }

    /// <summary>Names of the state tensors.</summary>
    public IEnumerable<string> Names => Tensors.Keys;

    /// <summary>The named tensor, or null.</summary>
    public Tensor? Get(string name) => Tensors.GetValueOrDefault(name);

    /// <summary>The named tensor, created by <paramref name="create"/> (and taken out of its scope) when absent.</summary>
    public Tensor GetOrCreate(string name, Func<Tensor> create)
    {
        if (Tensors.TryGetValue(name, out var t)) return t;
        if (name.Contains('.')) throw new ArgumentException($"ParamState: state name '{name}' must not contain dots", nameof(name));
        t = create().DetachFromScope();
        Tensors[name] = t;
        return t;
    }

    /// <summary>Stores <paramref name="tensor"/> under <paramref name="name"/>, taking it out of its scope (replacing and freeing any previous one).</summary>
    public Tensor Set(string name, Tensor tensor)
    {
        if (name.Contains('.')) throw new ArgumentException($"ParamState: state name '{name}' must not contain dots", nameof(name));
        if (Tensors.TryGetValue(name, out var old) && !ReferenceEquals(old, tensor)) old.Dispose();
        Tensors[name] = tensor.DetachFromScope();
        return tensor;
    }

    /// <summary>Frees the state tensors.</summary>
    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
        Tensors.Clear();
    }
}
