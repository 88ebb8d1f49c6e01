using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// Per-channel learnable scale of a residual branch (CaiT / DeiT-III / DINOv2 "layer scale", timm's
/// <c>LayerScale</c>): y = x · γ with γ initialised to a constant. State-dict key: <c>gamma</c>.
/// </summary>
public sealed class LayerScale : Module<Tensor, Tensor>
{
    /// <summary>The scale γ [dim].</summary>
    public Parameter Gamma { get; }

    /// <summary>Creates the layer with γ = <paramref name="initValues"/> everywhere.</summary>
    public LayerScale(long dim, double initValues, Device? device = null)
    {
        using var s = Scope.Enter();
        Gamma = RegisterParameter("gamma", Torch.Torch.Full([dim], initValues, device: device));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Mul(Gamma);
}
