using System.Text.Json.Nodes;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Config;

/// <summary>
/// The model, DINOv2 style: <c>name</c> picks the registry entry whose record (<see cref="VitConfig"/>,
/// <see cref="ResNetConfig"/>) gives the defaults, and every property of that record is a key under <c>model.</c>
/// (<c>model.drop_path_rate=0.1</c>, <c>model.anf.kernel_size=5</c>, <c>model.specialization.qkv_blocks=[0,1]</c>),
/// bound by the same binder as every other key (<see cref="ModelBinder"/>). Only the keys that were set are kept
/// (type-checked and normalised), so the canonical JSON names what a run changed, a registry default stays the
/// registry's, and the trainer can tell an explicit <c>model.mix_token</c> from the default.
/// </summary>
public sealed record ModelSection : IConfigSection
{
    /// <summary>Registry name (timm naming, e.g. <c>deit_small_patch16_224</c>, <c>lvvit_s</c>).</summary>
    public string Name { get; init; } = "vit_tiny_patch16_224";
    /// <summary>Initial weights (a safetensors file), or null for the model's own initialisation.</summary>
    public string? Weights { get; init; }

    /// <summary>The record keys set, as normalised JSON text (text, so that record equality compares values).</summary>
    internal string KeysJson { get; init; } = "{}";

    /// <summary>The record keys set (a copy): snake_case names, nested objects for STA / ANF / specialization.</summary>
    public JsonObject Keys => (JsonObject)JsonNode.Parse(KeysJson)!;

    /// <summary>Whether the dotted record key (<c>mix_token</c>, <c>anf.kernel_size</c>) was set explicitly.</summary>
    public bool IsSet(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        JsonNode? node = Keys;
        foreach (var part in key.Split('.'))
            if (node is not JsonObject o || !o.TryGetPropertyValue(part, out node)) return false;
        return true;
    }

    /// <summary>The registry entry of <see cref="Name"/> with the keys applied and validated (a <see cref="ConfigException"/> otherwise).</summary>
    public ModelEntry Resolve() => ModelBinder.Resolve(this, "model", "model");

    /// <summary>
    /// The entry <paramref name="name"/> with <c>key=value</c> assignments (<c>drop_path_rate=0.1</c> or
    /// <c>model.drop_path_rate=0.1</c>), for the commands that take a model by name (<c>models</c>, <c>analyze</c>, <c>bench</c>).
    /// </summary>
    public static ModelEntry Resolve(string name, IEnumerable<string> assignments) => new ModelSection { Name = name }.With(assignments).Resolve();

    /// <summary>A copy with <c>key=value</c> assignments applied (keys relative to <c>model.</c>, which may be written too).</summary>
    public ModelSection With(IEnumerable<string> assignments)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        var m = this;
        foreach (var a in assignments)
        {
            var (key, value) = ConfigLoader.ParseAssignment(a);
            var path = key.StartsWith("model.", StringComparison.Ordinal) ? key : "model." + key;
            m = (ModelSection)ConfigBinder.Set(m, path.Split('.'), 1, value, $"override '{a}'");
        }
        return m;
    }

    /// <inheritdoc/>
    public void Validate(string prefix)
    {
        ConfigCheck.Require(!string.IsNullOrWhiteSpace(Name), prefix, "name", "must name a registered model");
        ConfigCheck.Require(Weights is null || Weights.Trim().Length > 0, prefix, "weights", "must be a file path or null");
        // Keys and types only: whether the record is consistent as a whole is decided where the model is built, after
        // the trainer's own changes (token labeling sets return_dense; without it, mix_token is turned off).
        if (KeysJson != "{}") ModelBinder.Bind(this, prefix, "model");
    }
}
