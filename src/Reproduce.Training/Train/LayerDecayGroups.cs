using System.Globalization;
using System.Text.RegularExpressions;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;
using Reproduce.Training.Config;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Train;

/// <summary>
/// timm's <c>param_groups_layer_decay</c> (timm/optim/_param_groups.py) for a <see cref="VisionTransformer"/>, with the
/// layer map of timm's <c>VisionTransformer.group_matcher(coarse=False)</c> through <c>group_with_matcher</c>:
/// stem (<c>^cls_token|pos_embed|patch_embed</c>) → layer 0; <c>blocks.i</c> → i + 1; <c>^norm</c> → depth + 1; every
/// other parameter (head, aux_head, fc_norm) → depth + 2, the last layer. With L = depth + 3 layers, a parameter of
/// layer l gets <c>lr_scale = layer_decay^(L − 1 − l)</c>. Weight decay 0 for 1-d parameters and the names in the
/// no-weight-decay list (exact names, as timm's check <c>name in no_weight_decay_list</c>), else the configured decay.
/// One group per (layer, decay/no_decay), in the order of their first parameter, named <c>layer_{l}_{decay|no_decay}</c>.
/// </summary>
public static partial class LayerDecayGroups
{
    [GeneratedRegex(@"^cls_token|pos_embed|patch_embed")]
    private static partial Regex Stem();

    [GeneratedRegex(@"^blocks\.(\d+)")]
    private static partial Regex Block();

    [GeneratedRegex(@"^norm")]
    private static partial Regex FinalNorm();

    /// <summary>The layer id of parameter <paramref name="name"/> in a ViT of <paramref name="depth"/> blocks.</summary>
    public static int LayerId(string name, int depth)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Stem().IsMatch(name)) return 0;
        var m = Block().Match(name);
        if (m.Success) return int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + 1;
        return FinalNorm().IsMatch(name) ? depth + 1 : depth + 2;
    }

    /// <summary>The parameter groups of <paramref name="model"/> (a ViT; anything else is a <see cref="ConfigException"/> on <c>optim.layer_decay</c>).</summary>
    public static List<ParamGroup> Create(Module model, double weightDecay, double layerDecay, IEnumerable<string> noWeightDecay)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(noWeightDecay);
        if (model is not VisionTransformer vit)
            throw new ConfigException($"optim.layer_decay: layer-wise lr decay follows timm's ViT layer map; {model.GetType().Name} has none", "optim.layer_decay");
        var depth = vit.Config.Depth;
        var layerMax = depth + 2;
        var exclude = noWeightDecay.ToHashSet(StringComparer.Ordinal);
        var groups = new List<(string Name, List<Parameter> Params, double Decay, double Scale)>();
        foreach (var (name, p) in model.NamedParameters())
        {
            if (!p.RequiresGrad) continue;
            var noDecay = p.Dim == 1 || exclude.Contains(name);
            var layer = LayerId(name, depth);
            var groupName = $"layer_{layer}_{(noDecay ? "no_decay" : "decay")}";
            var index = groups.FindIndex(g => g.Name == groupName);
            if (index < 0)
            {
                groups.Add((groupName, [], noDecay ? 0.0 : weightDecay, Math.Pow(layerDecay, layerMax - layer)));
                index = groups.Count - 1;
            }
            groups[index].Params.Add(p);
        }
        return groups.Select(g => new ParamGroup(g.Params, weightDecay: g.Decay, lrScale: g.Scale, name: g.Name)).ToList();
    }
}
