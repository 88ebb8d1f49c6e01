using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Heads;

/// <summary>
/// A segmentation decode head over a ViT's intermediate patch maps: what a dense probe trains and evaluates, whichever
/// head it is (<see cref="LinearSegmentationHead"/>, <see cref="FcnHead"/>), so the probe's loop, whole/slide inference
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
}
