using System.Text.RegularExpressions;
using Reproduce.Torch;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Checkpoints.Released;

/// <summary>
/// Renames the keys of released Vision Transformer checkpoints to ours (timm's), as timm's <c>checkpoint_filter_fn</c>
/// for <c>vision_transformer.py</c> does:
/// <list type="bullet">
/// <item>DeiT-III (<c>models_v2.py</c>): <c>blocks.N.gamma_1/2</c> → <c>blocks.N.ls1/2.gamma</c>.</item>
/// <item>DINOv2 (torch hub backbones and training checkpoints): <c>mask_token</c> dropped; chunked blocks
/// <c>blocks.C.N.*</c> → <c>blocks.N.*</c>; with registers, <c>register_tokens</c> → <c>reg_token</c> and, for a model
/// without position embedding on the prefix tokens (timm's <c>no_embed_class</c>, our <c>*_reg4_dinov2</c>), the class
/// token's position embedding row added into <c>cls_token</c> and removed from <c>pos_embed</c> (timm's <c>_convert_dinov2</c>).</item>
/// <item>Every model: a <c>pos_embed</c> for another grid resampled bicubically with antialiasing to the model's grid
/// (timm's <c>resample_abs_pos_embed</c>, <see cref="VisionTransformer.FilterCheckpoint"/>).</item>
/// </list>
/// DeiT, ViT and TokenLabeling's LV-ViT releases already use our keys.
/// </summary>
public static partial class CheckpointKeyMapping
{
    [GeneratedRegex(@"^blocks\.(\d+)\.gamma_([12])$")]
    private static partial Regex Gamma();

    [GeneratedRegex(@"^blocks\.\d+\.(\d+)\.")]
    private static partial Regex Chunked();

    /// <summary>The state dict with our keys for <paramref name="model"/>; dropped keys are added to <paramref name="notes"/>.</summary>
    public static Dictionary<string, Tensor> ForVit(VisionTransformer model, Dictionary<string, Tensor> state, List<string> notes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(notes);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in state)
        {
            var k = Gamma().Replace(key, "blocks.$1.ls$2.gamma");
            k = Chunked().Replace(k, "blocks.$1.");
            if (k == "mask_token")
            {
                notes.Add("key 'mask_token' (DINOv2's masked-image-modelling token, unused at inference)");
                continue;
            }
            if (k == "register_tokens") k = "reg_token";
            if (!result.TryAdd(k, value)) throw new InvalidDataException($"keys '{key}' and another both map to '{k}'");
        }
        if (state.ContainsKey("register_tokens") && model.Config.NoEmbedClass && model.Config.ClassToken
            && result.TryGetValue("pos_embed", out var pe) && result.TryGetValue("cls_token", out var cls) && pe.Dim == 3 && cls.Dim == 3)
        {
            result["cls_token"] = cls.Add(pe.Slice(1, 0, 1));
            result["pos_embed"] = pe.Slice(1, 1, null).Contiguous();
        }
        try
        {
            return model.FilterCheckpoint(result);
        }
        catch (ArgumentException)
        {
            // Not a grid this model's pos_embed can be resampled from (another model's file): keep it, so the
            // key check names pos_embed with both shapes next to the other mismatches.
            return result;
        }
    }
}
