using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

// [CLS]/patch specialization (arXiv 2602.08626) inside a block: the class-path modules registered beside the
// shared ones (`norm1_cls`, `ls1_cls`, `attn.qkv_cls`, `attn.proj_cls`, `norm2_cls`, `mlp_cls`, `ls2_cls`) and the
// forward steps that route the leading class tokens through them. Attention itself stays joint over all tokens.

public sealed partial class Block
{
    /// <summary>What this block specializes for the class token, or null for a plain block.</summary>
    public BlockSpecialization? Specialization { get; private set; }
    /// <summary>Class path of <see cref="Norm1"/> (<c>norm1_cls</c>), or null.</summary>
    public SpecializedLayerNorm? Norm1Cls { get; private set; }
    /// <summary>Class path of <see cref="Ls1"/> (<c>ls1_cls</c>), or null.</summary>
    public SpecializedLayerScale? Ls1Cls { get; private set; }
    /// <summary>Class path of <see cref="Norm2"/> (<c>norm2_cls</c>), or null.</summary>
    public SpecializedLayerNorm? Norm2Cls { get; private set; }
    /// <summary>Class path of <see cref="Mlp"/> (<c>mlp_cls</c>), or null.</summary>
    public SpecializedMlp? MlpCls { get; private set; }
    /// <summary>Class path of <see cref="Ls2"/> (<c>ls2_cls</c>), or null.</summary>
    public SpecializedLayerScale? Ls2Cls { get; private set; }

    private void Specialize(BlockSpecialization spec, int dim, double normEps, double? initValues, Device? device)
    {
        Specialization = spec;
        var k = spec.ClsTokens;
        if (spec.Norms)
        {
            Norm1Cls = Register("norm1_cls", new SpecializedLayerNorm(dim, k, normEps, device));
            Norm2Cls = Register("norm2_cls", new SpecializedLayerNorm(dim, k, normEps, device));
        }
        if (spec.LayerScales && initValues is { } v)
        {
            Ls1Cls = Register("ls1_cls", new SpecializedLayerScale(dim, v, k, device));
            Ls2Cls = Register("ls2_cls", new SpecializedLayerScale(dim, v, k, device));
        }
        Attn.Specialize(k, spec.Qkv, spec.Proj, spec.LoraRank, spec.LoraAlpha, device);
        if (spec.Mlp) MlpCls = Register("mlp_cls", new SpecializedMlp(Mlp, k, spec.LoraRank, spec.LoraAlpha, device));
    }

    private Tensor NormBeforeAttention(Tensor x) => Norm1Cls?.Forward(x, Norm1) ?? Norm1.Forward(x);

    private Tensor ScaleAttention(Tensor x) => Ls1Cls is not null ? Ls1Cls.Forward(x, (LayerScale)Ls1) : Ls1.Call(x);

    private Tensor NormBeforeMlp(Tensor x) => Norm2Cls?.Forward(x, Norm2) ?? Norm2.Forward(x);

    private Tensor MlpPath(Tensor x) => MlpCls?.Forward(x, Mlp) ?? Mlp.Forward(x);

    private Tensor ScaleMlp(Tensor x) => Ls2Cls is not null ? Ls2Cls.Forward(x, (LayerScale)Ls2) : Ls2.Call(x);

    /// <summary>Conversion init: every class path of this block copies its shared layer (the block then computes the plain block's function).</summary>
    public void CopySharedToClsPaths()
    {
        Norm1Cls?.CopyFrom(Norm1);
        Norm2Cls?.CopyFrom(Norm2);
        Ls1Cls?.CopyFrom((LayerScale)Ls1);
        Ls2Cls?.CopyFrom((LayerScale)Ls2);
        Attn.QkvCls?.CopyFrom(Attn.Qkv);
        Attn.ProjCls?.CopyFrom(Attn.Proj);
        MlpCls?.CopyFrom(Mlp);
    }

    /// <summary>Fresh init of every class path (LayerNorm ones/zeros, layer scale to its initial value, linear layers as <see cref="SpecializedLinear.ResetParameters"/>).</summary>
    public void ResetClsPaths()
    {
        Norm1Cls?.ResetParameters();
        Norm2Cls?.ResetParameters();
        Ls1Cls?.ResetParameters();
        Ls2Cls?.ResetParameters();
        Attn.QkvCls?.ResetParameters();
        Attn.ProjCls?.ResetParameters();
        MlpCls?.ResetParameters();
    }
}

public sealed partial class Attention
{
    /// <summary>Leading tokens on the class path (0 when nothing is specialized).</summary>
    public int ClsTokens { get; private set; }
    /// <summary>Class path of <see cref="Qkv"/> (<c>qkv_cls</c>), or null.</summary>
    public SpecializedLinear? QkvCls { get; private set; }
    /// <summary>Class path of <see cref="Proj"/> (<c>proj_cls</c>), or null.</summary>
    public SpecializedLinear? ProjCls { get; private set; }

    internal void Specialize(int clsTokens, bool qkv, bool proj, int? loraRank, double? loraAlpha, Device? device)
    {
        ClsTokens = clsTokens;
        if (qkv) QkvCls = Register("qkv_cls", new SpecializedLinear(Qkv, clsTokens, loraRank, loraAlpha, device));
        if (proj) ProjCls = Register("proj_cls", new SpecializedLinear(Proj, clsTokens, loraRank, loraAlpha, device));
    }

    private Tensor QkvPath(Tensor x) => QkvCls?.Forward(x, Qkv) ?? Qkv.Forward(x);

    private Tensor ProjPath(Tensor x) => ProjCls?.Forward(x, Proj) ?? Proj.Forward(x);
}
