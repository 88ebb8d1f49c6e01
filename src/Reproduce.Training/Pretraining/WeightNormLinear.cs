using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// A bias-free linear layer under PyTorch's <c>weight_norm</c> (dim 0): the weight is re-parameterised as
/// <code>W_o = g_o · v_o / ‖v_o‖</code>
/// per output row o, with parameters <c>weight_g</c> [out, 1] and <c>weight_v</c> [out, in] (PyTorch's state-dict
/// keys). As in DINO's head, v starts at PyTorch's default Linear initialisation and g at 1.
/// </summary>
public sealed class WeightNormLinear : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer with g = 1 and v ~ U(±1/√in).</summary>
    public WeightNormLinear(long inFeatures, long outFeatures, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        using var s = Scope.Enter();
        var bound = 1 / Math.Sqrt(inFeatures);
        WeightG = RegisterParameter("weight_g", Torch.Torch.Ones([outFeatures, 1], device: device));
        WeightV = RegisterParameter("weight_v", Torch.Torch.Empty([outFeatures, inFeatures], device: device).Uniform_(-bound, bound));
    }

    /// <summary>g [out, 1].</summary>
    public Parameter WeightG { get; }

    /// <summary>v [out, in].</summary>
    public Parameter WeightV { get; }

    /// <summary>The effective weight g·v/‖v‖ [out, in].</summary>
    public Tensor Weight() => WeightV.Mul(WeightG.Div(WeightV.Norm(2, [1], keepDim: true)));

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        using var scope = Scope.Enter();
        return scope.MoveOut(F.Linear(input, Weight()));
    }
}
