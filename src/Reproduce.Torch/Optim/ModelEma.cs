using Reproduce.Torch.Nn;

namespace Reproduce.Torch.Optim;

/// <summary>
/// Exponential moving average of a model's weights, as timm's <c>ModelEmaV3</c> (which generalises
/// <c>ModelEmaV2</c>): a shadow copy of every state-dict entry (parameters and persistent buffers), updated by
/// <code>
/// shadow ← shadow + (1 − d)·(model − shadow)   (= d·shadow + (1 − d)·model; floating entries, via lerp)
/// shadow ← model                                (integer and bool entries, e.g. num_batches_tracked)
/// </code>
/// with the decay d from <see cref="GetDecay"/>. Entries are matched by state-dict key (timm matches by order).
/// The shadow keeps each entry's dtype, on the model's device or on <c>device</c> when one is given.
/// </summary>
public sealed class ModelEma : IDisposable
{
    private readonly List<(string Key, Tensor Value)> _shadow = [];
    private readonly Device? _device;
    private bool _disposed;

    /// <summary>Starts the average at a copy of <paramref name="model"/>'s state.</summary>
    /// <param name="model">The model to follow.</param>
    /// <param name="decay">Decay d (timm default 0.9999).</param>
    /// <param name="minDecay">Lower bound on the warmed-up decay (timm's min_decay).</param>
    /// <param name="updateAfterStep">Steps before averaging starts (timm's update_after_step).</param>
    /// <param name="useWarmup">Ramp the decay up with the step (timm's use_warmup).</param>
    /// <param name="warmupGamma">γ of the warmup (timm's warmup_gamma).</param>
    /// <param name="warmupPower">Power of the warmup (timm's warmup_power, default 2/3).</param>
    /// <param name="device">Keep the shadow on this device instead of the model's.</param>
    public ModelEma(Module model, double decay = 0.9999, double minDecay = 0, long updateAfterStep = 0, bool useWarmup = false,
        double warmupGamma = 1.0, double warmupPower = 2.0 / 3.0, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        (Decay, MinDecay, UpdateAfterStep, UseWarmup, WarmupGamma, WarmupPower, _device) =
            (decay, minDecay, updateAfterStep, useWarmup, warmupGamma, warmupPower, device);
        using var noGrad = Torch.NoGrad();
        using var scope = Scope.Enter();
        foreach (var (key, value) in model.StateDict())
        {
            var copy = Op.Get("aten::to.device").Invoke(value, device ?? value.Device, value.DType, false, true);
            _shadow.Add((key, copy.DetachFromScope()));
        }
    }

    /// <summary>Decay d (the value used once warmed up).</summary>
    public double Decay { get; }
    /// <summary>timm's min_decay.</summary>
    public double MinDecay { get; }
    /// <summary>timm's update_after_step.</summary>
    public long UpdateAfterStep { get; }
    /// <summary>timm's use_warmup.</summary>
    public bool UseWarmup { get; }
    /// <summary>timm's warmup_gamma.</summary>
    public double WarmupGamma { get; }
    /// <summary>timm's warmup_power.</summary>
    public double WarmupPower { get; }

    /// <summary>The shadow entries by key, in the model's state-dict order (owned by this object; do not dispose).</summary>
    public IReadOnlyList<(string Key, Tensor Value)> Shadow => _shadow;

    /// <summary>
    /// The decay for an update at <paramref name="step"/>, as timm's <c>ModelEmaV3.get_decay</c>:
    /// without a step, <see cref="Decay"/>; otherwise with s = max(0, step − update_after_step − 1),
    /// 0 when s = 0 (the first update copies the model), else with warmup
    /// max(min(1 − (1 + s/γ)^(−power), d), min_decay), without warmup d.
    /// </summary>
    public double GetDecay(long? step = null)
    {
        if (step is not { } t) return Decay;
        var s = Math.Max(0, t - UpdateAfterStep - 1);
        if (s <= 0) return 0.0;
        if (!UseWarmup) return Decay;
        var d = 1 - Math.Pow(1 + s / WarmupGamma, -WarmupPower);
        return Math.Max(Math.Min(d, Decay), MinDecay);
    }

    /// <summary>One averaging step towards <paramref name="model"/> with the decay <see cref="GetDecay"/>(<paramref name="step"/>) (timm's <c>update(model, step)</c>).</summary>
    public void Update(Module model, long? step = null) => Blend(model, GetDecay(step));

    /// <summary>Copies <paramref name="model"/>'s state into the shadow (timm's <c>set</c>).</summary>
    public void Set(Module model) => Blend(model, null);

    private void Blend(Module model, double? decay)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(model);
        using var noGrad = Torch.NoGrad();
        using var scope = Scope.Enter();
        var state = model.StateDict();
        if (state.Count != _shadow.Count || _shadow.Any(e => !state.ContainsKey(e.Key)))
            throw new TorchException($"ModelEma: the model's state-dict keys differ from the shadow's (model: {state.Count} keys, shadow: {_shadow.Count}; missing: [{string.Join(", ", _shadow.Where(e => !state.ContainsKey(e.Key)).Select(e => e.Key))}])");
        foreach (var (key, ema) in _shadow)
        {
            var src = state[key];
            if (_device is { } dev && src.Device != dev) src = src.To(dev);
            if (decay is { } d && ema.DType.IsFloatingPoint()) ema.Lerp_(src, 1.0 - d);
            else ema.Copy_(src);
        }
    }

    /// <summary>Loads the shadow into <paramref name="target"/> (strict: keys and shapes must match), e.g. to evaluate the averaged weights.</summary>
    public LoadResult ApplyTo(Module target)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(target);
        return target.LoadStateDict(_shadow.ToDictionary(e => e.Key, e => e.Value));
    }

    /// <summary>The shadow as a state dict (timm's <c>state_dict_ema</c>): detached aliases created in the current scope.</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _shadow.ToDictionary(e => e.Key, e => e.Value.Detach());
    }

    /// <summary>Copies a saved <see cref="StateDict"/> into the shadow (every key must be present with the same shape).</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(state);
        var missing = _shadow.Where(e => !state.ContainsKey(e.Key)).Select(e => e.Key).ToList();
        var unexpected = state.Keys.Where(k => _shadow.All(e => e.Key != k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new TorchException($"ModelEma.LoadStateDict: missing keys [{string.Join(", ", missing)}]; unexpected keys [{string.Join(", ", unexpected)}]");
        foreach (var (key, ema) in _shadow)
            if (!state[key].Shape.SequenceEqual(ema.Shape))
                throw new TorchException($"ModelEma.LoadStateDict: '{key}' has shape {Tensor.FormatShape(state[key].Shape)} but the shadow has {Tensor.FormatShape(ema.Shape)}");
        using var noGrad = Torch.NoGrad();
        foreach (var (key, ema) in _shadow) ema.Copy_(state[key]);
    }

    /// <summary>Frees the shadow tensors.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var (_, t) in _shadow) t.Dispose();
        _shadow.Clear();
    }
}
