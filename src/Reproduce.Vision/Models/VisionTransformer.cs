using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Vision.Models;

/// <summary>
/// Vision Transformer ("An Image is Worth 16x16 Words", Dosovitskiy et al. 2021) laid out as timm's
/// <c>VisionTransformer</c>, so timm checkpoints load by key: <c>cls_token</c>, <c>pos_embed</c>,
/// <c>patch_embed.proj.*</c>, <c>blocks.N.{norm1,attn.qkv,attn.proj,ls1,norm2,mlp.fc1,mlp.fc2,ls2}.*</c>,
/// <c>norm.*</c> (or <c>fc_norm.*</c> with average pooling) and <c>head.*</c>; <c>reg_token</c> with register
/// tokens. The same class is LV-ViT ("All Tokens Matter", Jiang et al. 2021) when configured as in
/// <see cref="LvVit"/>: conv-stem <c>patch_embed</c>, <c>skip_lam</c> residuals and <c>aux_head</c>, with
/// TokenLabeling's keys; token labeling and MixToken (<c>VisionTransformer.TokenLabeling.cs</c>) work on any
/// configuration.
/// Initialisation is timm's default (<c>weight_init=''</c>): truncated normal (std .02, cut at ±2) for every
/// Linear weight with zero biases, truncated normal for <c>pos_embed</c>, N(0, σ²) for <c>cls_token</c> and
/// <c>reg_token</c> (σ = <see cref="VitConfig.ClsTokenInitStd"/>: timm 1e−6, LV-ViT .02), PyTorch's default
/// for the convolutions, LayerNorm and BatchNorm ones/zeros — which is also TokenLabeling's <c>_init_weights</c>.
/// <para>Options for the STA/ANF and [CLS]/patch papers, each off (null) by default and adding keys only when on:
/// Structured Token Augmentation after the patch embedding (<see cref="VitConfig.Sta"/>), Adaptive Noise Filters
/// between blocks (<see cref="VitConfig.Anf"/>, keys <c>anf.&lt;block&gt;.*</c>) and [CLS]/patch specialization
/// (<see cref="VitConfig.Specialization"/>, <c>_cls</c> sibling keys; VisionTransformer.Specialization.cs).</para>
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
    /// <summary>Register tokens [1,R,D] (placed after the class token, without position embedding), or null.</summary>
    public Parameter? RegToken { get; }
    /// <summary>
    /// Learned position embeddings [1, <see cref="VitConfig.PosEmbedLength"/>, D]: the class token's entry first
    /// (unless <see cref="VitConfig.NoEmbedClass"/>), then the patch grid row-major.
    /// </summary>
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

    /// <summary>
    /// Builds the model (validating <paramref name="config"/>) and applies timm's initialisation (seed with
    /// <see cref="Torch.Torch.ManualSeed"/>); <paramref name="initWeights"/> false skips it (timm's
    /// <c>weight_init='skip'</c>) for models whose weights are loaded right after.
    /// </summary>
    public VisionTransformer(VitConfig config, Device? device = null, bool initWeights = true)
    {
        config.Validate();
        Config = config;
        using var s = Scope.Enter();
        var d = config.EmbedDim;
        PatchEmbed = Register("patch_embed", new PatchEmbed(config.ImgSize, config.PatchSize, config.InChans, d, bias: true, device: device,
            stemChannels: config.EmbedLayer == EmbedLayer.ConvStem ? config.StemChannels : 0, strictImgSize: !config.DynamicImgSize));
        Sta = config.Sta is { } sta
            ? Register("sta", new StructuredTokenAugmentation(sta, config.PatchSize, config.EmbedLayer == EmbedLayer.ConvStem ? null : PatchEmbed.Proj))
            : null;
        ClsToken = config.ClassToken ? RegisterParameter("cls_token", Torch.Torch.Zeros([1, 1, d], device: device)) : null;
        RegToken = config.RegTokens > 0 ? RegisterParameter("reg_token", Torch.Torch.Zeros([1, config.RegTokens, d], device: device)) : null;
        PosEmbed = RegisterParameter("pos_embed", Torch.Torch.Zeros([1, config.PosEmbedLength, d], device: device));

        var rates = DropPathRates(config.DropPathRate, config.Depth, config.DropPathSchedule);
        _blocks = Register("blocks", new ModuleList<Block>());
        for (var i = 0; i < config.Depth; i++)
            _blocks.Add(new Block(d, config.NumHeads, config.MlpRatio, config.QkvBias, config.ProjDropRate, config.AttnDropRate,
                config.InitValues, rates[i], config.NormEps, device, config.SkipLam,
                config.Specialization?.ForBlock(i, config.Depth, config.NumPrefixTokens)));
        Anf = config.Anf is { } anf ? Register("anf", new AdaptiveNoiseFilterStack(anf, config.Depth, d, config.NumPrefixTokens, config.NormEps, device)) : null;

        Norm = Register("norm", config.UseFcNorm ? new Identity() : (Module<Tensor, Tensor>)new LayerNorm(d, config.NormEps, device: device));
        NormCls = config.Specialization is { Norms: true } spec && !config.UseFcNorm
            ? Register("norm_cls", new SpecializedLayerNorm(d, spec.ClsTokens(config.NumPrefixTokens), config.NormEps, device))
            : null;
        FcNorm = Register("fc_norm", config.UseFcNorm ? new LayerNorm(d, config.NormEps, device: device) : (Module<Tensor, Tensor>)new Identity());
        Head = Register("head", config.NumClasses > 0 ? new Linear(d, config.NumClasses, device: device) : (Module<Tensor, Tensor>)new Identity());
        AuxHead = config.ReturnDense ? Register("aux_head", new Linear(d, config.NumClasses, device: device)) : null;
        MixTokenSampler = new MixToken(config.MixTokenBeta);
        if (initWeights) InitWeights();
    }

    /// <summary>
    /// timm's stochastic-depth decay rule: <c>torch.linspace(0, rate, depth)</c> in float32, so the
    /// per-block rates are bit-identical to timm's.
    /// </summary>
    public static double[] DropPathRates(double rate, int depth) => DropPathRates(rate, depth, DropPathSchedule.Linear);

    /// <summary>
    /// Per-block drop-path rates: <see cref="DropPathSchedule.Linear"/> is <c>torch.linspace(0, rate, depth)</c>
    /// in float32 (bit-identical to timm's and TokenLabeling's <c>get_dpr</c>), <see cref="DropPathSchedule.Uniform"/>
    /// gives every block <paramref name="rate"/> (TokenLabeling's <c>'fix'</c>).
    /// </summary>
    public static double[] DropPathRates(double rate, int depth, DropPathSchedule schedule)
    {
        if (depth == 0) return [];
        if (schedule == DropPathSchedule.Uniform) return Enumerable.Repeat(rate, depth).ToArray();
        using var s = Scope.Enter();
        return Torch.Torch.Linspace(0, rate, depth).ToArray<float>().Select(x => (double)x).ToArray();
    }

    /// <summary>(Re-)applies timm's default initialisation to every parameter (the patch convolution gets PyTorch's default).</summary>
    public void InitWeights()
    {
        if (Config.PosEmbedInitStd > 0) Init.TruncNormal_(PosEmbed, std: Config.PosEmbedInitStd);
        else Init.Zeros_(PosEmbed);
        if (ClsToken is not null) Init.Normal_(ClsToken, std: Config.ClsTokenInitStd);
        if (RegToken is not null) Init.Normal_(RegToken, std: Config.ClsTokenInitStd);
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

    /// <summary>Number of prefix tokens (class, then registers) before the patch tokens.</summary>
    public int NumPrefixTokens => Config.NumPrefixTokens;

    /// <summary>Width of the pooled features fed to the head.</summary>
    public int NumFeatures => Config.EmbedDim;

    /// <summary>
    /// timm's <c>_pos_embed</c>: patch tokens [B, h·w, D] → [B, prefix + h·w, D] with the class token first,
    /// then the register tokens, then the patches. Default order (ViT, DeiT): prepend the class token, add
    /// <c>pos_embed</c>; with <see cref="VitConfig.NoEmbedClass"/> (DeiT-III): add <c>pos_embed</c> to the patches,
    /// then prepend. Register tokens are inserted after the class token once the position embedding is in, so they
    /// never get one (DINOv2's reference code; timm's register models all set <c>no_embed_class</c>, where the
    /// two agree). With <see cref="VitConfig.DynamicImgSize"/> the embedding is resampled to
    /// <paramref name="grid"/> (default: the configured grid). Position dropout last.
    /// </summary>
    public Tensor PosEmbedTokens(Tensor patchTokens, (int H, int W)? grid = null)
    {
        using var s = Scope.Enter();
        var b = patchTokens.Size(0);
        var pe = (Tensor)PosEmbed;
        if (Config.DynamicImgSize && grid is { } g)
            pe = Config.InterpolateOffset is { } offset
                ? PosEmbedResampling.ResampleWithOffset(PosEmbed, g, offset, Config.PosEmbedPrefixLength)
                : PosEmbedResampling.ResampleAbsPosEmbed(PosEmbed, g, (Config.GridSize, Config.GridSize), Config.PosEmbedPrefixLength);
        else if (patchTokens.Size(1) != Config.NumPatches)
            throw new ArgumentException($"VisionTransformer: {patchTokens.Describe()} patch tokens for a model with {Config.NumPatches} (set dynamic_img_size for other sizes)");
        var cls = ClsToken?.Expand(b, -1, -1);
        var x = patchTokens;
        if (Config.NoEmbedClass)
        {
            x = x.Add(pe);
            if (cls is not null) x = Tensor.Cat([cls, x], 1);
        }
        else
        {
            if (cls is not null) x = Tensor.Cat([cls, x], 1);
            x = x.Add(pe);
        }
        if (RegToken is not null)
        {
            var reg = RegToken.Expand(b, -1, -1);
            x = cls is null ? Tensor.Cat([reg, x], 1) : Tensor.Cat([x.Slice(1, 0, 1), reg, x.Slice(1, 1, null)], 1);
        }
        x = ModuleCalls.MaybeDropout(x, Config.PosDropRate, Training);
        return s.MoveOut(x);
    }

    /// <summary>Images [B,C,H,W] → normalised tokens [B, prefix + patches, D] (timm's <c>forward_features</c>).</summary>
    public Tensor ForwardFeatures(Tensor images)
    {
        using var s = Scope.Enter();
        return s.MoveOut(ForwardGridFeatures(EmbedGrid(images)));
    }

    /// <summary>
    /// Images [B,C,H,W] → the patch grid [B,D,h,w]: the patch embedding, then Structured Token Augmentation when on
    /// (training only; before MixToken, which cuts this grid).
    /// </summary>
    public Tensor EmbedGrid(Tensor images)
    {
        var grid = PatchEmbed.ForwardGrid(images);
        if (Sta is null || !Sta.Active) return grid;
        using var s = Scope.Enter();
        var shape = grid.Shape;
        var tokens = Sta.Apply(images, grid.Flatten(2).Transpose(1, 2));
        return s.MoveOut(tokens.Transpose(1, 2).Reshape(shape));
    }

    /// <summary>Patch grid [B,D,h,w] → the tokens entering block 0 (flattened row-major, then <see cref="PosEmbedTokens"/>).</summary>
    public Tensor GridTokens(Tensor grid)
    {
        using var s = Scope.Enter();
        var shape = grid.Shape;
        return s.MoveOut(PosEmbedTokens(grid.Flatten(2).Transpose(1, 2), ((int)shape[2], (int)shape[3])));
    }

    /// <summary>Images [B,C,H,W] → the tokens entering block 0 (<see cref="GridTokens"/> of <see cref="EmbedGrid"/>).</summary>
    public Tensor EmbedTokens(Tensor images)
    {
        using var s = Scope.Enter();
        return s.MoveOut(GridTokens(EmbedGrid(images)));
    }

    /// <summary>Block <paramref name="index"/>, followed by its Adaptive Noise Filter when there is one (on the h×w patch grid <paramref name="grid"/>).</summary>
    public Tensor ForwardBlock(int index, Tensor tokens, (int H, int W)? grid = null)
    {
        var x = _blocks[index].Forward(tokens);
        return Anf is null ? x : Anf.Apply(index, x, grid);
    }

    /// <summary>The final norm (its class path on the class token when specialized; identity with <c>fc_norm</c>).</summary>
    public Tensor ApplyNorm(Tensor tokens) =>
        NormCls is not null ? NormCls.Forward(tokens, (LayerNorm)Norm) : Norm.Call(tokens);

    /// <summary>Patch grid [B,D,h,w] → flattened, position-embedded, through the blocks (and filters) and the final norm.</summary>
    private Tensor ForwardGridFeatures(Tensor grid)
    {
        using var s = Scope.Enter();
        var hw = ((int)grid.Size(2), (int)grid.Size(3));
        var x = GridTokens(grid);
        for (var i = 0; i < _blocks.Count; i++) x = ForwardBlock(i, x, hw);
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
    /// <paramref name="preLogits"/>. With <see cref="VitConfig.ReturnDense"/> the logits are TokenLabeling's
    /// prediction, class logits + <see cref="VitConfig.AuxLogitWeight"/> · maxᵢ aux_head(patch token i).
    /// </summary>
    public Tensor ForwardHead(Tensor tokens, bool preLogits = false)
    {
        using var s = Scope.Enter();
        if (preLogits) return s.MoveOut(PreLogits(tokens));
        var x = ClassLogits(tokens);
        if (AuxHead is not null) x = x.Add(AuxLogits(tokens).Amax([1]).Mul(Config.AuxLogitWeight));
        return s.MoveOut(x);
    }

    private Tensor PreLogits(Tensor tokens)
    {
        using var s = Scope.Enter();
        var x = FcNorm.Call(Pool(tokens));
        return s.MoveOut(ModuleCalls.MaybeDropout(x, Config.DropRate, Training));
    }

    /// <summary>
    /// timm's <c>VisionTransformer.no_weight_decay()</c>. TokenLabeling's LV-ViT returns <c>{pos_embed, cls_token}</c>,
    /// the same set for the parameters it has.
    /// </summary>
    public override IReadOnlyCollection<string> NoWeightDecay() => TimmNoWeightDecay;

    private static readonly string[] TimmNoWeightDecay = ["pos_embed", "cls_token", "reg_token", "dist_token"];

    /// <summary>Images [B,C,H,W] → logits [B, classes] (the prediction; see <see cref="ForwardHead"/>).</summary>
    /// <exception cref="InvalidOperationException">In training mode with <see cref="VitConfig.MixToken"/>: that
    /// training forward is <see cref="ForwardTokenLabeling"/>.</exception>
    public override Tensor Forward(Tensor input)
    {
        if (Training && Config.MixToken)
            throw new InvalidOperationException("VisionTransformer.Forward: mix_token is on, so the training forward is ForwardTokenLabeling "
                + "(class logits, swapped-back aux logits and the MixToken box for the loss); call Eval() to predict");
        using var s = Scope.Enter();
        return s.MoveOut(ForwardHead(ForwardFeatures(input)));
    }

    /// <summary>
    /// A checkpoint made ready for this model (timm's <c>checkpoint_filter_fn</c> for position embeddings):
    /// a <c>pos_embed</c> of another grid (e.g. a 224 checkpoint for a 384 model) is resampled with
    /// <see cref="PosEmbedResampling.ResampleAbsPosEmbed"/>, keeping this model's prefix rows; every other entry
    /// is passed through. timm resamples with antialiasing; TokenLabeling's loader without.
    /// </summary>
    public Dictionary<string, Tensor> FilterCheckpoint(IReadOnlyDictionary<string, Tensor> state, bool antialias = true)
    {
        var result = new Dictionary<string, Tensor>(state);
        if (state.TryGetValue("pos_embed", out var pe) && pe.Shape.Length == 3 && pe.Size(1) != Config.PosEmbedLength)
            result["pos_embed"] = PosEmbedResampling.ResampleAbsPosEmbed(pe, (Config.GridSize, Config.GridSize), null,
                Config.PosEmbedPrefixLength, antialias: antialias);
        return result;
    }
}
