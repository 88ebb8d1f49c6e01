using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// Multi-head self-attention (timm's <c>Attention</c>): a fused <c>qkv</c> projection split into H heads,
/// softmax(q·kᵀ/√d)·v through <see cref="F.ScaledDotProductAttention"/> (the fused kernel on libtorch 2.x,
/// timm's explicit math path on 1.13), heads merged, then the output projection <c>proj</c>.
/// </summary>
public sealed partial class Attention : Module<Tensor, Tensor>
{
    /// <summary>Fused q, k, v projection D → 3D (key prefix <c>qkv</c>).</summary>
    public Linear Qkv { get; }
    /// <summary>Output projection D → D (key prefix <c>proj</c>).</summary>
    public Linear Proj { get; }
    /// <summary>Number of heads.</summary>
    public int NumHeads { get; }
    /// <summary>Per-head width d = D / H.</summary>
    public int HeadDim { get; }
    /// <summary>Logit scale d^−½ (computed as timm does, <c>head_dim ** -0.5</c>).</summary>
    public double Scale { get; }
    /// <summary>Dropout on the attention probabilities.</summary>
    public double AttnDrop { get; }
    /// <summary>Dropout after <see cref="Proj"/>.</summary>
    public double ProjDrop { get; }

    /// <summary>Creates the layer; Linear weights keep PyTorch's default init until the model applies timm's.</summary>
    public Attention(int dim, int numHeads, bool qkvBias = false, double attnDrop = 0, double projDrop = 0, Device? device = null)
    {
        if (numHeads <= 0 || dim % numHeads != 0)
            throw new ArgumentException($"Attention: dim {dim} is not divisible by {numHeads} heads");
        NumHeads = numHeads;
        HeadDim = dim / numHeads;
        Scale = Math.Pow(HeadDim, -0.5);
        AttnDrop = attnDrop;
        ProjDrop = projDrop;
        Qkv = Register("qkv", new Linear(dim, dim * 3L, qkvBias, device));
        Proj = Register("proj", new Linear(dim, dim, true, device));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        var shape = input.Shape;
        if (shape.Length != 3) throw new ArgumentException($"Attention: expected [B,N,C], got {input.Describe()}");
        long b = shape[0], n = shape[1], c = shape[2];
        using var s = Scope.Enter();
        // [B,N,3D] → [3,B,H,N,d]
        var qkv = QkvPath(input).Reshape(b, n, 3, NumHeads, HeadDim).Permute(2, 0, 3, 1, 4);
        var parts = qkv.Unbind(0);
        var x = F.ScaledDotProductAttention(parts[0], parts[1], parts[2], dropout: AttnDrop, training: Training, scale: Scale);
        x = x.Transpose(1, 2).Reshape(b, n, c);
        x = ModuleCalls.MaybeDropout(ProjPath(x), ProjDrop, Training);
        return s.MoveOut(x);
    }
}
