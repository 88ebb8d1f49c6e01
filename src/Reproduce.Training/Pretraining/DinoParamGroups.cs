using System.Globalization;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;

namespace Reproduce.Training.Pretraining;

/// <summary>One fused DINOv2 parameter group: its multipliers and whether it is the head's last layer.</summary>
/// <param name="Group">The optimizer group.</param>
/// <param name="LrMultiplier">lr_multiplier (layer-wise decay × patch-embed factor).</param>
/// <param name="WdMultiplier">wd_multiplier (0 for biases, norms and LayerScale gammas).</param>
/// <param name="IsLastLayer">is_last_layer (takes the last-layer lr, zero while frozen).</param>
public sealed record DinoParamGroup(ParamGroup Group, double LrMultiplier, double WdMultiplier, bool IsLastLayer);

/// <summary>
/// DINOv2's parameter groups (dinov2 <c>utils/param_groups.py</c> as <c>SSLMetaArch.get_params_groups</c> calls it)
/// for a <see cref="DinoV2Network"/> student, per parameter:
/// <code>
/// layer  = 0 for the patch embedding, cls/pos/mask/register tokens; i + 1 for blocks.i; depth + 1 otherwise (backbone);
///          depth + 1 for every head parameter (the heads have no blocks)
/// lr_multiplier = layer_decay^(depth + 1 − layer), × patch_embed_lr_mult for the patch embedding
/// wd_multiplier = 0 for names ending in .bias or containing "norm" or "gamma", else 1
/// is_last_layer = "last_layer" in the name
/// </code>
/// fused, within each student submodule (backbone with its mask token, DINO head, iBOT head), into one group per
/// (lr_multiplier, wd_multiplier, is_last_layer) in order of first appearance. Each
/// iteration, <see cref="Apply"/> sets lr = (last-layer lr if is_last_layer else lr)·lr_multiplier and
/// weight decay = wd·wd_multiplier (dinov2 <c>apply_optim_scheduler</c>).
/// </summary>
public static class DinoParamGroups
{
    /// <summary>The reference's per-parameter rule for <paramref name="name"/> (a student name: backbone.*, mask_token, *_head.*).</summary>
    public static (double LrMultiplier, double WdMultiplier, bool IsLastLayer) Rule(string name, int depth, double layerDecay = 0.9, double patchEmbedLrMult = 0.2)
    {
        ArgumentNullException.ThrowIfNull(name);
        var layer = depth + 1;
        if (name.StartsWith("backbone.", StringComparison.Ordinal) || name == "mask_token")
        {
            var local = name == "mask_token" ? name : name["backbone.".Length..];
            if (local.Contains("pos_embed", StringComparison.Ordinal) || local.Contains("patch_embed", StringComparison.Ordinal)
                || local.Contains("mask_token", StringComparison.Ordinal) || local.Contains("cls_token", StringComparison.Ordinal)
                || local.Contains("reg_token", StringComparison.Ordinal))
                layer = 0;
            else if (local.StartsWith("blocks.", StringComparison.Ordinal))
                layer = int.Parse(local.Split('.')[1], CultureInfo.InvariantCulture) + 1;
        }
        var lr = Math.Pow(layerDecay, depth + 1 - layer);
        if (name.Contains("patch_embed", StringComparison.Ordinal)) lr *= patchEmbedLrMult;
        var wd = name.EndsWith(".bias", StringComparison.Ordinal) || name.Contains("norm", StringComparison.Ordinal)
            || name.Contains("gamma", StringComparison.Ordinal) ? 0.0 : 1.0;
        return (lr, wd, DinoHead.IsLastLayer(name));
    }

    /// <summary>The fused groups of <paramref name="student"/>'s trainable parameters.</summary>
    public static List<DinoParamGroup> Create(DinoV2Network student, double layerDecay = 0.9, double patchEmbedLrMult = 0.2)
    {
        ArgumentNullException.ThrowIfNull(student);
        var depth = student.Backbone.Config.Depth;
        var fused = new List<(string Module, (double, double, bool) Key, List<Parameter> Params)>();
        foreach (var (name, p) in student.NamedParameters())
        {
            if (!p.RequiresGrad) continue;
            var isBackbone = name.StartsWith("backbone.", StringComparison.Ordinal) || name == "mask_token";
            var module = isBackbone ? "backbone" : name.Split('.')[0];
            // the heads have no blocks: every head parameter sits at the last layer, multiplier 1
            var key = Rule(name, isBackbone ? depth : 0, layerDecay, patchEmbedLrMult);
            var index = fused.FindIndex(g => g.Module == module && g.Key == key);
            if (index < 0)
            {
                fused.Add((module, key, []));
                index = fused.Count - 1;
            }
            fused[index].Params.Add(p);
        }
        return fused.Select(g => new DinoParamGroup(
            new ParamGroup(g.Params, name: FormattableString.Invariant($"{g.Module}_lr{g.Key.Item1:R}_wd{g.Key.Item2:R}{(g.Key.Item3 ? "_last_layer" : "")}")),
            g.Key.Item1, g.Key.Item2, g.Key.Item3)).ToList();
    }

    /// <summary>Writes one iteration's lr and weight decay into every group.</summary>
    public static void Apply(IEnumerable<DinoParamGroup> groups, DinoScheduleValues values)
    {
        ArgumentNullException.ThrowIfNull(groups);
        foreach (var g in groups)
        {
            g.Group.Lr = (g.IsLastLayer ? values.LastLayerLr : values.Lr) * g.LrMultiplier;
            g.Group.WeightDecay = values.WeightDecay * g.WdMultiplier;
        }
    }
}
