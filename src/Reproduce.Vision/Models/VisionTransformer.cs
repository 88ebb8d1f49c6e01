using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Vision.Models;

/// <summary>
/// Vision Transformer ("An Image is Worth 16x16 Words", Dosovitskiy et al. 2021) laid out as timm's
/// <c>VisionTransformer</c>, so timm checkpoints load by key: <c>cls_token</c>, <c>pos_embed</c>,
/// <c>patch_embed.proj.*</c>, <c>blocks.N.{norm1,attn.qkv,attn.proj,ls1,norm2,mlp.fc1,mlp.fc2,ls2}.*</c>,
/// <c>norm.*</c> (or <c>fc_norm.*</c> with average pooling) and <c>head.*</c>.
/// Initialisation is timm's default (<c>weight_init=''</c>): truncated normal (std .02, cut at ±2) for every
/// Linear weight with zero biases, truncated normal for <c>pos_embed</c>, N(0, 1e−6²) for <c>cls_token</c>,
/// PyTorch's default for the patch convolution, LayerNorm ones/zeros.
/// <para>Options beyond timm, each off (null) by default and adding keys only when on: Structured Token
/// Augmentation after the patch embedding (<see cref="VitConfig.Sta"/>), Adaptive Noise Filters between blocks
/// (<see cref="VitConfig.Anf"/>, keys <c>anf.&lt;block&gt;.*</c>) and [CLS]/patch specialization
/// (<see cref="VitConfig.Specialization"/>, <c>_cls</c> sibling keys).</para>
/// </summary>
public sealed partial class VisionTransformer : Module<Tensor, Tensor>
{
    private readonly ModuleList<Block> _blocks;

    /// <summary>The configuration the model was built from.</summary>
    public VitConfig Config { get; }
    /// <summary>Image → patch tokens.</summary>
    public PatchEmbed PatchEmbed { get; }
    /// <summary>Class token [1,1,D], or null without one.</summary>
    public Parameter? ClsToken { get; }
    /// <summary>Learned position embeddings [1, prefix + patches, D] (the class token has an entry).</summary>
    public Parameter PosEmbed { get; }
    /// <summary>The transformer blocks.</summary>
    public IReadOnlyList<Block> Blocks => _blocks;
    /// <summary>Final norm before pooling, or <see cref="Identity"/> when <see cref="FcNorm"/> is used.</summary>
    public Module<Tensor, Tensor> Norm { get; }
    /// <summary>Norm after pooling (timm's <c>fc_norm</c>), or <see cref="Identity"/>.</summary>
    public Module<Tensor, Tensor> FcNorm { get; }
    /// <summary>Classifier, or <see cref="Identity"/> when <see cref="VitConfig.NumClasses"/> is 0.</summary>
    public Module<Tensor, Tensor> Head { get; }
    /// <summary>Structured Token Augmentation on the patch tokens (training only), or null (<see cref="VitConfig.Sta"/>).</summary>
    public StructuredTokenAugmentation? Sta { get; }
    /// <summary>Adaptive Noise Filters between blocks, or null (<see cref="VitConfig.Anf"/>).</summary>
    public AdaptiveNoiseFilterStack? Anf { get; }
    /// <summary>Class path of the final <see cref="Norm"/> (<c>norm_cls</c>), or null (<see cref="VitConfig.Specialization"/>).</summary>
    public SpecializedLayerNorm? NormCls { get; }

    /// <summary>Builds the model and applies timm's initialisation (seed with <see cref="Torch.Torch.ManualSeed"/>).</summary>
    public VisionTransformer(VitConfig config, Device? device = null)
    {
        config.Validate();
        Config = config;
        using var s = Scope.Enter();
        var d = config.EmbedDim;
        PatchEmbed = Register("patch_embed", new PatchEmbed(config.ImgSize, config.PatchSize, config.InChans, d, bias: true, device: device));
        Sta = config.Sta is { } sta ? Register("sta", new StructuredTokenAugmentation(sta, config.PatchSize, PatchEmbed.Proj)) : null;
        ClsToken = config.ClassToken ? RegisterParameter("cls_token", Torch.Torch.Zeros([1, 1, d], device: device)) : null;
        PosEmbed = RegisterParameter("pos_embed", Torch.Torch.Zeros([1, config.NumTokens, d], device: device));

        var rates = DropPathRates(config.DropPathRate, config.Depth);
        _blocks = Register("blocks", new ModuleList<Block>());
        for (var i = 0; i < config.Depth; i++)
            _blocks.Add(new Block(d, config.NumHeads, config.MlpRatio, config.QkvBias, config.ProjDropRate, config.AttnDropRate,
                config.InitValues, rates[i], config.NormEps, device, config.Specialization?.ForBlock(i, config.Depth, config.NumPrefixTokens)));
        Anf = config.Anf is { } anf ? Register("anf", new AdaptiveNoiseFilterStack(anf, config.Depth, d, config.NumPrefixTokens, config.NormEps, device)) : null;

        Norm = Register("norm", config.UseFcNorm ? new Identity() : (Module<Tensor, Tensor>)new LayerNorm(d, config.NormEps, device: device));
        NormCls = config.Specialization is { Norms: true } spec && !config.UseFcNorm
            ? Register("norm_cls", new SpecializedLayerNorm(d, spec.ClsTokens(config.NumPrefixTokens), config.NormEps, device))
            : null;
        FcNorm = Register("fc_norm", config.UseFcNorm ? new LayerNorm(d, config.NormEps, device: device) : (Module<Tensor, Tensor>)new Identity());
        Head = Register("head", config.NumClasses > 0 ? new Linear(d, config.NumClasses, device: device) : (Module<Tensor, Tensor>)new Identity());
        InitWeights();
    }

    /// <summary>
    /// timm's stochastic-depth decay rule: <c>torch.linspace(0, rate, depth)</c> in float32, so the
    /// per-block rates are bit-identical to timm's.
    /// </summary>
    public static double[] DropPathRates(double rate, int depth)
    {
        if (depth == 0) return [];
        using var s = Scope.Enter();
        return Torch.Torch.Linspace(0, rate, depth).ToArray<float>().Select(x => (double)x).ToArray();
    }

    /// <summary>(Re-)applies timm's default initialisation to every parameter (the patch convolution gets PyTorch's default).</summary>
    public void InitWeights()
    {
        if (Config.PosEmbedInitStd > 0) Init.TruncNormal_(PosEmbed, std: Config.PosEmbedInitStd);
        else Init.Zeros_(PosEmbed);
        if (ClsToken is not null) Init.Normal_(ClsToken, std: 1e-6);
        foreach (var (_, m) in NamedModules())
        {
            switch (m)
            {
                case Linear l:
                    Init.TruncNormal_(l.Weight, std: 0.02);
                    if (l.Bias is not null) Init.Zeros_(l.Bias);
                    break;
                case LayerNorm n:
                    if (n.Weight is not null) Init.Ones_(n.Weight);
                    if (n.Bias is not null) Init.Zeros_(n.Bias);
                    break;
                case Conv2d c:
                {
                    // PyTorch's Conv2d default (kaiming_uniform with a = √5): U(±1/√fan_in) for weight and bias.
                    Init.KaimingUniform_(c.Weight, a: Math.Sqrt(5));
                    var bound = 1 / Math.Sqrt(Init.Fans(c.Weight).FanIn);
                    if (c.Bias is not null) Init.Uniform_(c.Bias, -bound, bound);
                    break;
                }
                case LayerScale ls:
                    Init.Constant_(ls.Gamma, Config.InitValues ?? 1.0);
                    break;
            }
        }
        // Layers with their own init, applied after the loop above (which would overwrite it).
        Anf?.ResetParameters();
        InitClsPaths();
    }

    /// <summary>Number of prefix (class) tokens before the patch tokens.</summary>
    public int NumPrefixTokens => Config.NumPrefixTokens;

    /// <summary>Width of the pooled features fed to the head.</summary>
    public int NumFeatures => Config.EmbedDim;

    /// <summary>Patch tokens with the class token prepended and position embeddings added (timm's <c>_pos_embed</c>).</summary>
    public Tensor PosEmbedTokens(Tensor patchTokens)
    {
        using var s = Scope.Enter();
        var x = patchTokens;
        if (ClsToken is not null)
            x = Tensor.Cat([ClsToken.Expand(x.Size(0), -1, -1), x], 1);
        x = x.Add(PosEmbed);
        x = ModuleCalls.MaybeDropout(x, Config.PosDropRate, Training);
        return s.MoveOut(x);
    }

    /// <summary>Images [B,C,H,W] → the tokens entering block 0: patch embedding, STA (when on), then <see cref="PosEmbedTokens"/>.</summary>
    public Tensor EmbedTokens(Tensor images)
    {
        using var s = Scope.Enter();
        var tokens = PatchEmbed.Forward(images);
        if (Sta is not null) tokens = Sta.Apply(images, tokens);
        return s.MoveOut(PosEmbedTokens(tokens));
    }

    /// <summary>Block <paramref name="index"/>, followed by its Adaptive Noise Filter when there is one.</summary>
    public Tensor ForwardBlock(int index, Tensor tokens)
    {
        var x = _blocks[index].Forward(tokens);
        return Anf is null ? x : Anf.Apply(index, x);
    }

    /// <summary>The final norm (its class path on the class token when specialized; identity with <c>fc_norm</c>).</summary>
    public Tensor ApplyNorm(Tensor tokens) =>
        NormCls is not null ? NormCls.Forward(tokens, (LayerNorm)Norm) : Norm.Call(tokens);

    /// <summary>Images [B,C,H,W] → normalised tokens [B, prefix + patches, D] (timm's <c>forward_features</c>).</summary>
    public Tensor ForwardFeatures(Tensor images)
    {
        using var s = Scope.Enter();
        var x = EmbedTokens(images);
        for (var i = 0; i < _blocks.Count; i++) x = ForwardBlock(i, x);
        x = ApplyNorm(x);
        return s.MoveOut(x);
    }

    /// <summary>Pools tokens [B,N,D] to [B,D] as configured (timm's <c>pool</c>).</summary>
    public Tensor Pool(Tensor tokens) => Config.GlobalPool switch
    {
        GlobalPool.Token => tokens.Select(1, 0),
        GlobalPool.Avg => PoolAvg(tokens),
        _ => throw new InvalidOperationException($"VisionTransformer: unknown pooling {Config.GlobalPool}"),
    };

    private Tensor PoolAvg(Tensor tokens)
    {
        if (NumPrefixTokens == 0) return tokens.Mean(1);
        using var s = Scope.Enter();
        return s.MoveOut(tokens.Slice(1, NumPrefixTokens, null).Mean(1));
    }

    /// <summary>
    /// Tokens → logits (timm's <c>forward_head</c>): pool, <c>fc_norm</c>, dropout, and the head unless
    /// <paramref name="preLogits"/>.
    /// </summary>
    public Tensor ForwardHead(Tensor tokens, bool preLogits = false)
    {
        using var s = Scope.Enter();
        var x = Pool(tokens);
        x = FcNorm.Call(x);
        x = ModuleCalls.MaybeDropout(x, Config.DropRate, Training);
        if (!preLogits) x = Head.Call(x);
        return s.MoveOut(x);
    }

    /// <summary>Images [B,C,H,W] → logits [B, classes].</summary>
    public override Tensor Forward(Tensor input)
    {
        using var s = Scope.Enter();
        return s.MoveOut(ForwardHead(ForwardFeatures(input)));
    }
}
