using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// The transformer feed-forward block (timm's <c>Mlp</c>): fc1 → GELU (exact, erf) → dropout → fc2 → dropout.
/// </summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    /// <summary>Expansion D → hidden.</summary>
    public Linear Fc1 { get; }
    /// <summary>Projection hidden → D.</summary>
    public Linear Fc2 { get; }
    /// <summary>Dropout after the activation and after fc2 (timm's <c>drop</c>, applied twice).</summary>
    public double Drop { get; }

    /// <summary>Creates the block; <paramref name="outFeatures"/> defaults to <paramref name="inFeatures"/>.</summary>
    public Mlp(long inFeatures, long hiddenFeatures, long? outFeatures = null, bool bias = true, double drop = 0, Device? device = null)
    {
        Fc1 = Register("fc1", new Linear(inFeatures, hiddenFeatures, bias, device));
        Fc2 = Register("fc2", new Linear(hiddenFeatures, outFeatures ?? inFeatures, bias, device));
        Drop = drop;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        using var s = Scope.Enter();
        var x = F.Gelu(Fc1.Forward(input));
        x = ModuleCalls.MaybeDropout(x, Drop, Training);
        x = Fc2.Forward(x);
        x = ModuleCalls.MaybeDropout(x, Drop, Training);
        return s.MoveOut(x);
    }
}
