using Reproduce.Torch;

namespace Reproduce.Vision.Models;

/// <summary>
/// A fully convolutional classifier that can apply its classifier at every location of its un-pooled feature map
/// (score(i, j) = W·f(i, j) + b), giving the dense score maps a Token Labeling annotator writes
/// (docs/papers/token-labeling.md §1.4): <see cref="ResNet"/> and <see cref="NfNet"/>.
/// </summary>
public interface IDenseScoreModel
{
    /// <summary>Images [B, C, H, W] → dense score maps [B, classes, h, w] (pre-softmax).</summary>
    Tensor ForwardDense(Tensor images);
}
