using System.Text.Json.Nodes;

namespace Reproduce.Torch.Optim;

/// <summary>
/// A snapshot of an optimizer for checkpoints, split the way a checkpoint stores it:
/// <see cref="Tensors"/> (per-parameter state such as <c>state.0.exp_avg</c>, ready for a safetensors file)
/// and <see cref="Meta"/> (everything else — optimizer type, per-group hyperparameters, step counts —
/// as JSON). <see cref="Optimizer.LoadStateDict"/> of an equal structure restores it exactly.
/// </summary>
/// <remarks>
/// JSON layout of <see cref="Meta"/>:
/// <code>
/// { "optimizer": "AdamW",
///   "param_groups": [ { "name": "decay", "lr": 0.001, "initial_lr": 0.001, "weight_decay": 0.05, "lr_scale": 1,
///                       "options": { "Beta1": 0.9, ... }, "params": [0, 1, 2] } ],
///   "state": { "0": { "step": 12 }, "1": { "step": 12 } } }
/// </code>
/// Parameters are numbered across groups in group order, as PyTorch numbers them. A <c>state</c> entry
/// exists for every parameter that has state (even without scalars); its tensors are
/// <c>state.{index}.{name}</c> in <see cref="Tensors"/>. Doubles are written in shortest round-trip form,
/// so learning rates and hyperparameters come back bit-identical.
/// </remarks>
public sealed class OptimizerState
{
    /// <summary>Wraps tensors and metadata (the tensors are used as given, not copied).</summary>
    public OptimizerState(IReadOnlyDictionary<string, Tensor> tensors, JsonObject meta)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(meta);
        Tensors = tensors;
        Meta = meta;
    }

    /// <summary>Named state tensors, <c>state.{paramIndex}.{name}</c>.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    /// <summary>Optimizer type, group hyperparameters and scalar state, as JSON.</summary>
    public JsonObject Meta { get; }

    /// <summary>The metadata as a JSON string (for a checkpoint's JSON part).</summary>
    public string MetaJson() => Meta.ToJsonString();

    /// <summary>Rebuilds a state from a checkpoint: its tensors and the JSON written by <see cref="MetaJson"/>.</summary>
    public static OptimizerState FromJson(string metaJson, IReadOnlyDictionary<string, Tensor> tensors) =>
        new(tensors, JsonNode.Parse(metaJson) as JsonObject ?? throw new FormatException("OptimizerState.FromJson: the metadata is not a JSON object"));
}
