namespace Reproduce.Vision.Models;

/// <summary>
/// Hyper-parameters of <see cref="NfNet"/>, the normaliser-free ResNets of Brock et al. 2021 ("High-Performance
/// Large-Scale Image Recognition Without Normalization") as timm's <c>NormFreeNet</c> builds the <c>dm_nfnet_f*</c>
/// models (the ones compatible with DeepMind's released weights): 'deep_quad' stem (3×3 convs to C/8, C/4, C/2, C with
/// strides 2, 1, 1, 2), four stages of <see cref="Layers.NormFreeBlock"/> (widths 256, 512, 1536, 1536, strides 1, 2, 2,
/// 2), a 1×1 final conv to 2 × 1536 = 3072 features, GELU, average pool, <c>head.fc</c>. F0…F6 differ only in depth:
/// (1, 2, 6, 3) × (n + 1). The Token Labeling paper's annotator is NFNet-F6 at 576 px (docs/papers/token-labeling.md §1.4).
/// </summary>
public sealed record NfNetConfig : IModelConfig
{
    /// <summary>Channel rounding of timm's <c>make_divisible</c>.</summary>
    public const int ChannelDivisor = 8;

    /// <summary>GELU's variance-preserving gain γ (DeepMind's nfnets table, as timm's <c>_nonlin_gamma['gelu']</c>).</summary>
    public const double GeluGamma = 1.7015043497085571;

    /// <summary>Default input side (timm's <c>test_input_size</c> of the model; the net is fully convolutional).</summary>
    public int ImgSize { get; init; } = 576;
    /// <summary>Blocks per stage.</summary>
    public int[] Depths { get; init; } = [7, 14, 42, 21];
    /// <summary>Output channels per stage (rounded to multiples of 8).</summary>
    public int[] Channels { get; init; } = [256, 512, 1536, 1536];
    /// <summary>Channels after the stem (its convs have 1/8, 1/4, 1/2 and all of them).</summary>
    public int StemChannels { get; init; } = 128;
    /// <summary>Channels per group of the grouped 3×3 convolutions.</summary>
    public int GroupSize { get; init; } = 128;
    /// <summary>Bottleneck width as a fraction of the block's output width.</summary>
    public double BottleRatio { get; init; } = 0.5;
    /// <summary>Final conv width as a multiple of the last stage's channels.</summary>
    public double FeatureMultiplier { get; init; } = 2.0;
    /// <summary>Residual branch scale α.</summary>
    public double Alpha { get; init; } = 0.2;
    /// <summary>Gain γ applied after every GELU.</summary>
    public double ActGamma { get; init; } = GeluGamma;
    /// <summary>ε of the weight standardisation (timm's <c>std_conv_eps</c>).</summary>
    public double StdConvEps { get; init; } = 1e-5;
    /// <summary>Squeeze-excitation width as a fraction of the block's output width.</summary>
    public double SeRatio { get; init; } = 0.5;
    /// <summary>Gain on the squeeze-excitation output (NF correction for the sigmoid gate's ≈ 0.5 mean).</summary>
    public double AttnGain { get; init; } = 2.0;
    /// <summary>Stochastic depth: rate of the last block, rising linearly from 0 over all blocks (timm's schedule).</summary>
    public double DropPathRate { get; init; }
    /// <summary>Input channels.</summary>
    public int InChans { get; init; } = 3;
    /// <summary>Classes of <c>head.fc</c>.</summary>
    public int NumClasses { get; init; } = 1000;

    /// <summary>timm's <c>make_divisible</c>: nearest multiple of <paramref name="divisor"/>, at least it, at most 10 % below (unless <paramref name="roundLimit"/> is 0).</summary>
    public static int MakeDivisible(double v, int divisor = ChannelDivisor, double roundLimit = 0.9)
    {
        var n = Math.Max(divisor, (int)(v + divisor / 2.0) / divisor * divisor);
        return n < roundLimit * v ? n + divisor : n;
    }

    /// <summary>Output channels of stage <paramref name="stage"/>.</summary>
    public int StageChannels(int stage) => MakeDivisible(Channels[stage]);

    /// <summary>Bottleneck width (a whole number of groups) and group count of a block with <paramref name="outChannels"/>.</summary>
    public (int Mid, int Groups) Bottleneck(int outChannels)
    {
        var mid = MakeDivisible(outChannels * BottleRatio);
        var groups = mid / GroupSize;
        return GroupSize % ChannelDivisor == 0 ? (GroupSize * groups, groups) : (mid, groups);
    }

    /// <summary>Hidden width of the squeeze-excitation of a block with <paramref name="outChannels"/>.</summary>
    public int SeChannels(int outChannels) => MakeDivisible(outChannels * SeRatio, roundLimit: 0);

    /// <summary>Channels of the final feature map (the classifier's input).</summary>
    public int NumFeatures => MakeDivisible((int)(Channels[^1] * FeatureMultiplier));

    /// <summary>The stem's four conv widths and strides.</summary>
    public (int Channels, int Stride)[] Stem =>
        [(StemChannels / 8, 2), (StemChannels / 4, 1), (StemChannels / 2, 1), (MakeDivisible(StemChannels), 2)];

    /// <summary>One residual block of the layout.</summary>
    /// <param name="Stage">Stage index.</param>
    /// <param name="Index">Block index in its stage.</param>
    /// <param name="In">Input channels.</param>
    /// <param name="Out">Output channels.</param>
    /// <param name="Stride">Stride of its 3×3 conv (and shortcut pool).</param>
    /// <param name="Beta">Input scale β = 1/√(expected variance): 1/√(1 + α²·k) after k blocks since the last reset.</param>
    /// <param name="DropPath">Stochastic depth rate.</param>
    public readonly record struct BlockPlan(int Stage, int Index, int In, int Out, int Stride, double Beta, double DropPath);

    /// <summary>
    /// Every block in order. The expected variance starts at 1, is reset to 1 after each stage's first block (its
    /// shortcut is a fresh projection of the normalised input) and grows by α² per block, as timm and DeepMind count it.
    /// </summary>
    public IEnumerable<BlockPlan> Blocks()
    {
        int prev = MakeDivisible(StemChannels), total = Depths.Sum(), k = 0;
        var expectedVar = 1.0;
        for (var i = 0; i < Depths.Length; i++)
            for (var b = 0; b < Depths[i]; b++)
            {
                var output = StageChannels(i);
                var rate = total > 1 ? DropPathRate * k / (total - 1) : 0;
                yield return new BlockPlan(i, b, prev, output, b == 0 && i > 0 ? 2 : 1, 1 / Math.Sqrt(expectedVar), rate);
                if (b == 0) expectedVar = 1;
                expectedVar += Alpha * Alpha;
                prev = output;
                k++;
            }
    }

    /// <summary>Side of the final feature map for an input side <paramref name="size"/>: SAME convs and ceil-mode pools give ⌈s/2⌉ per stride-2 step (576 → 18).</summary>
    public int FeatureSize(int size)
    {
        var s = size;
        for (var i = 0; i < 2 + Depths.Length - 1; i++) s = (s + 1) / 2;
        return s;
    }

    /// <summary>Total stride of the final feature map (32).</summary>
    public int Stride => 1 << (2 + Depths.Length - 1);

    /// <summary>
    /// Trainable parameters, from the layout: every <see cref="Layers.ScaledStdConv2d"/> has in/g·out·k² weights plus a bias and a
    /// gain per output channel; per block conv1 (1×1), conv2 and conv2b (grouped 3×3), conv3 (1×1), the projection shortcut
    /// where the shape changes, the SE's two 1×1 convs with biases, and the scalar skipinit gain; the final 1×1 conv;
    /// <c>head.fc</c> F·K + K. dm_nfnet_f6: 438,359,116 (timm lists 438.36 M).
    /// </summary>
    public long ParamCount()
    {
        long total = 0;
        ForEachLayer((weights, extras, _) => total += weights + extras);
        return total;
    }

    /// <summary>Forward GMACs of one image at <see cref="ImgSize"/> (1 MAC = 1 FLOP): every conv's weights × output locations, SE and classifier once; activations, pools and adds not counted.</summary>
    public double Gflops()
    {
        double total = 0;
        ForEachLayer((weights, _, locations) => total += weights * locations);
        return total / 1e9;
    }

    // Visits every layer with parameters: weight count (= MACs per output location), other parameters, output locations.
    private void ForEachLayer(Action<long, long, double> visit)
    {
        long side = ImgSize, prev = InChans;
        foreach (var (c, stride) in Stem)
        {
            side = (side + stride - 1) / stride;
            visit(prev * c * 9, 2L * c, (double)side * side);
            prev = c;
        }
        foreach (var b in Blocks())
        {
            var (mid, groups) = Bottleneck(b.Out);
            long se = SeChannels(b.Out), sizeIn = side;
            side = (side + b.Stride - 1) / b.Stride;
            double a = (double)sizeIn * sizeIn, o = (double)side * side;
            if (b.In != b.Out || b.Stride != 1) visit((long)b.In * b.Out, 2L * b.Out, o);
            visit((long)b.In * mid, 2L * mid, a);
            visit((long)mid * (mid / groups) * 9, 2L * mid, o);
            visit((long)mid * (mid / groups) * 9, 2L * mid, o);
            visit((long)mid * b.Out, 2L * b.Out, o);
            visit(2 * se * b.Out, se + b.Out, 1);
            visit(0, 1, 0);
            prev = b.Out;
        }
        visit(prev * NumFeatures, 2L * NumFeatures, (double)side * side);
        visit((long)NumFeatures * NumClasses, NumClasses, 1);
    }

    /// <summary>dm_nfnet_f<paramref name="n"/> (n = 0…6): depths (1, 2, 6, 3)·(n + 1), at timm's test resolution for it.</summary>
    public static NfNetConfig F(int n)
    {
        int[] sizes = [256, 320, 352, 416, 512, 544, 576];
        if (n < 0 || n >= sizes.Length) throw new ArgumentException($"NfNetConfig: NFNet-F{n} is not defined (F0…F6)");
        return new NfNetConfig { Depths = [n + 1, 2 * (n + 1), 6 * (n + 1), 3 * (n + 1)], ImgSize = sizes[n] };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException("NfNetConfig: " + message);
        }
        Require(Depths.Length >= 1 && Depths.Length == Channels.Length, $"depths [{string.Join(", ", Depths)}] and channels [{string.Join(", ", Channels)}] must be non-empty and of equal length");
        Require(Depths.All(d => d >= 1) && Channels.All(c => c > 0), "depths and channels must be positive");
        Require(StemChannels >= 8 && StemChannels % 8 == 0, $"stem_channels {StemChannels} must be a positive multiple of 8 (its convs have 1/8, 1/4, 1/2 of it)");
        Require(GroupSize > 0 && BottleRatio > 0 && FeatureMultiplier > 0, $"group_size {GroupSize}, bottle_ratio {BottleRatio} and feature_multiplier {FeatureMultiplier} must be positive");
        foreach (var c in Channels.Select(c => MakeDivisible(c)))
        {
            var (mid, groups) = Bottleneck(c);
            Require(groups >= 1 && mid % groups == 0, $"a {c}-channel block's bottleneck {MakeDivisible(c * BottleRatio)} holds no whole group of {GroupSize} channels");
        }
        Require(Alpha > 0 && ActGamma > 0 && StdConvEps > 0 && SeRatio > 0, $"alpha {Alpha}, act_gamma {ActGamma}, std_conv_eps {StdConvEps} and se_ratio {SeRatio} must be positive");
        Require(DropPathRate is >= 0 and < 1, $"drop_path_rate {DropPathRate} must be in [0, 1)");
        Require(InChans > 0 && NumClasses > 0 && ImgSize > 0, $"channels {InChans}, classes {NumClasses} and image size {ImgSize} must be positive");
    }

    /// <inheritdoc/>
    public bool Equals(NfNetConfig? other) =>
        other is not null && ImgSize == other.ImgSize && Depths.SequenceEqual(other.Depths) && Channels.SequenceEqual(other.Channels) &&
        StemChannels == other.StemChannels && GroupSize == other.GroupSize && BottleRatio == other.BottleRatio &&
        FeatureMultiplier == other.FeatureMultiplier && Alpha == other.Alpha && ActGamma == other.ActGamma && StdConvEps == other.StdConvEps &&
        SeRatio == other.SeRatio && AttnGain == other.AttnGain && DropPathRate == other.DropPathRate && InChans == other.InChans && NumClasses == other.NumClasses;

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(ImgSize);
        foreach (var d in Depths) h.Add(d);
        foreach (var c in Channels) h.Add(c);
        h.Add(StemChannels);
        h.Add(GroupSize);
        h.Add(DropPathRate);
        h.Add(NumClasses);
        return h.ToHashCode();
    }
}
