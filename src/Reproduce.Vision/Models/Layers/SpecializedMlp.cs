using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// The class-token path of a specialized MLP, for the ablation in arXiv 2602.08626 (the paper reports that
/// specializing the MLP gives no gain or hurts; it stays shared by default): MLP_cls(x) = fc2_cls(GELU(fc1_cls(x)))
/// with its own fc1/fc2 (<see cref="SpecializedLinear"/>, full or low-rank), registered as <c>blocks.N.mlp_cls</c>
/// (keys <c>mlp_cls.fc1.*</c>, <c>mlp_cls.fc2.*</c>). The MLP acts on each token alone, so splitting both of its
/// linear layers by token type is exactly a separate MLP for the class token.
/// </summary>
public sealed class SpecializedMlp : Module
{
    /// <summary>Class path of <c>fc1</c>.</summary>
    public SpecializedLinear Fc1 { get; }
    /// <summary>Class path of <c>fc2</c>.</summary>
    public SpecializedLinear Fc2 { get; }

    /// <summary>Creates the class path of <paramref name="shared"/> (full copies, or LoRA of <paramref name="rank"/>).</summary>
    public SpecializedMlp(Mlp shared, int clsTokens = 1, int? rank = null, double? loraAlpha = null, Device? device = null)
    {
        Fc1 = Register("fc1", new SpecializedLinear(shared.Fc1, clsTokens, rank, loraAlpha, device));
        Fc2 = Register("fc2", new SpecializedLinear(shared.Fc2, clsTokens, rank, loraAlpha, device));
    }

    /// <summary>Tokens [B, N, D] → MLP_cls on the class tokens, <paramref name="shared"/> on the patches (dropout as in <see cref="Mlp"/>).</summary>
    public Tensor Forward(Tensor tokens, Mlp shared)
    {
        using var s = Scope.Enter();
        var x = F.Gelu(Fc1.Forward(tokens, shared.Fc1));
        x = ModuleCalls.MaybeDropout(x, shared.Drop, Training);
        x = Fc2.Forward(x, shared.Fc2);
        x = ModuleCalls.MaybeDropout(x, shared.Drop, Training);
        return s.MoveOut(x);
    }

    /// <summary>Conversion init from <paramref name="shared"/> (see <see cref="SpecializedLinear.CopyFrom"/>).</summary>
    public void CopyFrom(Mlp shared)
    {
        Fc1.CopyFrom(shared.Fc1);
        Fc2.CopyFrom(shared.Fc2);
    }

    /// <summary>Fresh init of both layers (see <see cref="SpecializedLinear.ResetParameters"/>).</summary>
    public void ResetParameters()
    {
        Fc1.ResetParameters();
        Fc2.ResetParameters();
    }
}
