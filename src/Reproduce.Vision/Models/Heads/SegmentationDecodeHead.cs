using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Heads;

/// <summary>
/// A segmentation decode head over a ViT's intermediate patch maps: what a dense probe trains and evaluates, whichever
/// head it is (<see cref="LinearSegmentationHead"/>, <see cref="FcnHead"/>, <see cref="UperNetHead"/>), so the probe's loop, whole/slide inference
/// and upsampling are one code path.
/// </summary>
public abstract class SegmentationDecodeHead : Module
{
    /// <summary>
    /// Logits for <paramref name="layers"/> (the patch maps [B, D, h, w] of
    /// <see cref="VisionTransformer.GetIntermediateLayers(Tensor, IReadOnlyList{int}, bool)"/>), bilinearly upsampled to
    /// <paramref name="height"/>×<paramref name="width"/>.
    /// </summary>
    public abstract Tensor Forward(IReadOnlyList<IntermediateLayer> layers, long height, long width);

    /// <summary>
    /// The training loss against <paramref name="labels"/> [B, height, width]: the pixel-mean cross-entropy of
    /// <see cref="Forward"/>'s logits over the pixels whose label is not <paramref name="ignoreIndex"/>. Heads with
    /// auxiliary outputs (<see cref="UperNetHead"/>) add their weighted terms.
    /// </summary>
    public virtual Tensor Loss(IReadOnlyList<IntermediateLayer> layers, Tensor labels, long height, long width, long ignoreIndex) =>
        F.CrossEntropy(Forward(layers, height, width), labels, ignoreIndex: ignoreIndex);
}
