using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Pretraining;

/// <summary>The normalised [CLS] and patch tokens of a backbone pass (dinov2's <c>x_norm_clstoken</c>, <c>x_norm_patchtokens</c>).</summary>
/// <param name="Cls">[B, D].</param>
/// <param name="Patches">[B, N, D] (register tokens left out).</param>
public readonly record struct SslTokens(Tensor Cls, Tensor Patches);

/// <summary>
/// One side (student or teacher) of DINOv2 (dinov2 <c>SSLMetaArch</c>'s module dict): a <see cref="VisionTransformer"/>
/// backbone under <c>backbone.</c> with timm's keys, the learned <c>mask_token</c> [1, D] that replaces masked patch
/// embeddings (dinov2 <c>prepare_tokens_with_masks</c>: before the class token and the position embedding), the DINO
/// head under <c>dino_head.</c> and, when iBOT has its own, <c>ibot_head.</c>. The backbone needs a class token, and
/// <see cref="VitConfig.DynamicImgSize"/> when local crops are smaller than global ones (the position embedding is
/// resampled as timm does, or as dinov2 does with <see cref="VitConfig.InterpolateOffset"/>).
/// </summary>
public sealed class DinoV2Network : Module
{
    /// <summary>The network for <paramref name="backbone"/>'s config with the given heads.</summary>
    public DinoV2Network(VitConfig backbone, DinoHeadConfig dinoHead, DinoHeadConfig? ibotHead = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(dinoHead);
        if (!backbone.ClassToken) throw new ArgumentException("DINOv2: the backbone needs a class token (model.class_token=true)");
        Backbone = Register("backbone", new VisionTransformer(backbone with { NumClasses = 0 }, device));
        using (var s = Scope.Enter())
            MaskToken = RegisterParameter("mask_token", Torch.Torch.Zeros([1, backbone.EmbedDim], device: device));
        DinoHead = Register("dino_head", new DinoHead(backbone.EmbedDim, dinoHead, device));
        IbotHead = ibotHead is null ? null : Register("ibot_head", new DinoHead(backbone.EmbedDim, ibotHead, device));
    }

    /// <summary>The ViT (its state dict is the exported backbone, timm keys).</summary>
    public VisionTransformer Backbone { get; }

    /// <summary>The mask token [1, D].</summary>
    public Parameter MaskToken { get; }

    /// <summary>The DINO head (also iBOT's when <see cref="IbotHead"/> is null).</summary>
    public DinoHead DinoHead { get; }

    /// <summary>iBOT's own head, or null when it shares the DINO head.</summary>
    public DinoHead? IbotHead { get; }

    /// <summary>The head iBOT uses.</summary>
    public DinoHead PatchHead => IbotHead ?? DinoHead;

    /// <summary>Images [B, C, H, W] (and masks [B, N] bool, or null) → the normalised [CLS] and patch tokens.</summary>
    public SslTokens Forward(Tensor images, Tensor? masks = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = Scope.Enter();
        var grid = Backbone.EmbedGrid(images);
        var hw = ((int)grid.Size(2), (int)grid.Size(3));
        var tokens = grid.Flatten(2).Transpose(1, 2);
        if (masks is not null)
        {
            if (masks.Dim != 2 || masks.Size(0) != tokens.Size(0) || masks.Size(1) != tokens.Size(1) || masks.DType != ScalarType.Bool)
                throw new ArgumentException($"DINOv2: masks {masks.Describe()} must be bool [{tokens.Size(0)}, {tokens.Size(1)}] for images {images.Describe()}");
            tokens = Tensor.Where(masks.Unsqueeze(-1), MaskToken.To(tokens.DType).Unsqueeze(0), tokens);
        }
        var x = Backbone.PosEmbedTokens(tokens, hw);
        for (var i = 0; i < Backbone.Blocks.Count; i++) x = Backbone.ForwardBlock(i, x, hw);
        x = Backbone.ApplyNorm(x);
        var cls = scope.MoveOut(x.Select(1, 0));
        var patches = scope.MoveOut(x.Slice(1, Backbone.Config.NumPrefixTokens, null));
        return new SslTokens(cls, patches);
    }
}
