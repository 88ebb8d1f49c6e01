using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// Pre-norm transformer block (timm's <c>Block</c>):
/// x + drop_path(ls1(attn(norm1(x)))), then x + drop_path(ls2(mlp(norm2(x)))); with LV-ViT's
/// <c>skip_lam</c> ≠ 1 each branch is divided by it before the residual add (TokenLabeling's <c>Block</c>).
/// Disabled layer scale and drop path are <see cref="Identity"/> children, so the keys
/// (<c>norm1</c>, <c>attn</c>, <c>ls1.gamma</c> only with layer scale, <c>norm2</c>, <c>mlp</c>, <c>ls2.gamma</c>) match timm.
/// With a <see cref="BlockSpecialization"/> the class token takes its own path through the specialized layers
/// (<c>_cls</c> sibling keys, see BlockSpecializationParts.cs); attention stays joint over all tokens.
/// </summary>
public sealed partial class Block : Module<Tensor, Tensor>
{
    /// <summary>Norm before attention.</summary>
    public LayerNorm Norm1 { get; }
    /// <summary>Self-attention.</summary>
    public Attention Attn { get; }
    /// <summary>Layer scale of the attention branch, or <see cref="Identity"/>.</summary>
    public Module<Tensor, Tensor> Ls1 { get; }
    /// <summary>Stochastic depth of the attention branch, or <see cref="Identity"/> when its rate is 0.</summary>
    public Module<Tensor, Tensor> DropPath1 { get; }
    /// <summary>Norm before the MLP.</summary>
    public LayerNorm Norm2 { get; }
    /// <summary>Feed-forward block.</summary>
    public Mlp Mlp { get; }
    /// <summary>Layer scale of the MLP branch, or <see cref="Identity"/>.</summary>
    public Module<Tensor, Tensor> Ls2 { get; }
    /// <summary>Stochastic depth of the MLP branch, or <see cref="Identity"/>.</summary>
    public Module<Tensor, Tensor> DropPath2 { get; }
    /// <summary>This block's drop-path rate.</summary>
    public double DropPathRate { get; }
    /// <summary>Residual branch divisor (LV-ViT <c>skip_lam</c>; 1 for ViT).</summary>
    public double SkipLam { get; }

    /// <summary>
    /// Creates the block from timm's <c>Block</c> arguments; <paramref name="initValues"/> null means no layer scale,
    /// <paramref name="skipLam"/> is LV-ViT's residual divisor (1 for ViT), and <paramref name="specialization"/> is the
    /// [CLS]/patch specialization of this block (arXiv 2602.08626; null for timm's plain block).
    /// </summary>
    public Block(int dim, int numHeads, double mlpRatio = 4, bool qkvBias = false, double projDrop = 0, double attnDrop = 0,
        double? initValues = null, double dropPath = 0, double normEps = 1e-6, Device? device = null, double skipLam = 1.0,
        BlockSpecialization? specialization = null)
    {
        DropPathRate = dropPath;
        SkipLam = skipLam;
        Norm1 = Register("norm1", new LayerNorm(dim, normEps, device: device));
        Attn = Register("attn", new Attention(dim, numHeads, qkvBias, attnDrop, projDrop, device));
        Ls1 = Register("ls1", MakeLayerScale(dim, initValues, device));
        DropPath1 = Register("drop_path1", MakeDropPath(dropPath));
        Norm2 = Register("norm2", new LayerNorm(dim, normEps, device: device));
        Mlp = Register("mlp", new Mlp(dim, (long)(dim * mlpRatio), drop: projDrop, device: device));
        Ls2 = Register("ls2", MakeLayerScale(dim, initValues, device));
        DropPath2 = Register("drop_path2", MakeDropPath(dropPath));
        if (specialization is { Any: true }) Specialize(specialization, dim, normEps, initValues, device);
    }

    private static Module<Tensor, Tensor> MakeLayerScale(int dim, double? initValues, Device? device) =>
        initValues is { } v ? new LayerScale(dim, v, device) : new Identity();

    private static Module<Tensor, Tensor> MakeDropPath(double rate) => rate > 0 ? new DropPath(rate) : new Identity();

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        using var s = Scope.Enter();
        var x = input.Add(Scaled(DropPath1.Call(ScaleAttention(Attn.Forward(NormBeforeAttention(input))))));
        x = x.Add(Scaled(DropPath2.Call(ScaleMlp(MlpPath(NormBeforeMlp(x))))));
        return s.MoveOut(x);
    }

    // TokenLabeling divides (branch / skip_lam); skipped entirely at 1 so ViT numerics are untouched.
    private Tensor Scaled(Tensor branch) => SkipLam == 1.0 ? branch : branch.Div(SkipLam);
}
