using System.Globalization;
using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// Adaptive Noise Filtering (ANF, arXiv 2509.19687, docs/papers/sta-anf.md §2.2), one filter between two transformer blocks:
/// <c>T̂ = LayerNorm(T + Conv1D(T) ⊙ σ(W·T + b))</c>, σ the logistic sigmoid (not STA's noise σ). The convolution
/// extracts local features, the gate decides per token (and channel) how much of them to add, the LayerNorm
/// stabilises. Conv axis, kernel size, gate shape and init are <see cref="AdaptiveNoiseFilterConfig"/> choices.
/// </summary>
public sealed class AdaptiveNoiseFilter : Module<Tensor, Tensor>
{
    /// <summary>The filter's settings.</summary>
    public AdaptiveNoiseFilterConfig Config { get; }
    /// <summary>Token width D.</summary>
    public int Dim { get; }
    /// <summary>Leading non-patch tokens ([CLS], registers); they get no conv term on the sequence/grid axes.</summary>
    public int PrefixTokens { get; }
    /// <summary>The local-feature convolution: Conv1d (depthwise over tokens, or 1→1 over channels) or Conv2d (depthwise on the grid).</summary>
    public Module<Tensor, Tensor> Conv { get; }
    /// <summary>Gate projection W·T + b (D→D or D→1).</summary>
    public Linear Gate { get; }
    /// <summary>The output LayerNorm.</summary>
    public LayerNorm Norm { get; }

    private readonly Parameter _convWeight;
    private readonly Parameter? _convBias;

    /// <summary>Creates the filter and applies <see cref="ResetParameters"/>.</summary>
    public AdaptiveNoiseFilter(AdaptiveNoiseFilterConfig config, int dim, int prefixTokens, double normEps = 1e-6, Device? device = null)
    {
        if (config.KernelSize < 1 || config.KernelSize % 2 == 0)
            throw new ArgumentException($"AdaptiveNoiseFilter: kernel size {config.KernelSize} must be odd and positive");
        (Config, Dim, PrefixTokens) = (config, dim, prefixTokens);
        long k = config.KernelSize, pad = config.KernelSize / 2;
        switch (config.ConvAxis)
        {
            case AnfConvAxis.Sequence:
            {
                var c = new Conv1d(dim, dim, k, padding: pad, groups: dim, device: device);
                (_convWeight, _convBias) = (c.Weight, c.Bias);
                Conv = Register("conv", c);
                break;
            }
            case AnfConvAxis.Grid2d:
            {
                var c = new Conv2d(dim, dim, k, padding: pad, groups: dim, device: device);
                (_convWeight, _convBias) = (c.Weight, c.Bias);
                Conv = Register("conv", c);
                break;
            }
            case AnfConvAxis.Channels:
            {
                var c = new Conv1d(1, 1, k, padding: pad, device: device);
                (_convWeight, _convBias) = (c.Weight, c.Bias);
                Conv = Register("conv", c);
                break;
            }
            default:
                throw new ArgumentException($"AdaptiveNoiseFilter: unknown conv axis {config.ConvAxis}");
        }
        Gate = Register("gate", new Linear(dim, config.Gate == AnfGate.Channel ? dim : 1, device: device));
        Norm = Register("norm", new LayerNorm(dim, normEps, device: device));
        ResetParameters();
    }

    /// <summary>
    /// Init (see <see cref="AdaptiveNoiseFilterConfig.ConvInitStd"/>): conv weights N(0, std²) or zero, conv bias 0, so with
    /// the default the filter starts as LayerNorm(T); gate W truncated normal (std .02, as timm's Linear), b = 0;
    /// LayerNorm γ = 1, β = 0.
    /// </summary>
    public void ResetParameters()
    {
        if (Config.ConvInitStd > 0) Init.Normal_(_convWeight, std: Config.ConvInitStd);
        else Init.Zeros_(_convWeight);
        if (_convBias is not null) Init.Zeros_(_convBias);
        Init.TruncNormal_(Gate.Weight, std: 0.02);
        Init.Zeros_(Gate.Bias!);
        Init.Ones_(Norm.Weight!);
        Init.Zeros_(Norm.Bias!);
    }

    /// <summary>Tokens T [B, N, D] (prefix tokens first, then a square patch grid row-major) → T̂ [B, N, D].</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null);

    /// <summary>
    /// Tokens T [B, N, D] (prefix tokens first, then the patch grid row-major) → T̂ [B, N, D]; <paramref name="grid"/> gives
    /// the grid's height and width for the 2-D conv (null: a square grid is assumed).
    /// </summary>
    public Tensor Forward(Tensor input, (int H, int W)? grid)
    {
        var shape = input.Shape;
        if (shape.Length != 3 || shape[2] != Dim || shape[1] < PrefixTokens)
            throw new ArgumentException($"AdaptiveNoiseFilter: expected tokens [B, N ≥ {PrefixTokens}, {Dim}], got {input.Describe()}");
        using var s = Scope.Enter();
        Tensor x;
        if (Config.ConvAxis == AnfConvAxis.Channels)
        {
            var local = Conv.Forward(input.Reshape(shape[0] * shape[1], 1, Dim)).Reshape(shape);
            x = input.Add(local.Mul(F.Sigmoid(Gate.Forward(input))));
        }
        else
        {
            var patches = TokenSplit.Tail(input, PrefixTokens);
            var filtered = patches.Add(LocalOnGrid(patches, grid).Mul(F.Sigmoid(Gate.Forward(patches))));
            x = PrefixTokens == 0 ? filtered : TokenSplit.Join(TokenSplit.Head(input, PrefixTokens), filtered);
        }
        return s.MoveOut(Norm.Forward(x));
    }

    /// <summary>Conv over the patch tokens [B, P, D] along the row-major sequence or on the h×w grid.</summary>
    private Tensor LocalOnGrid(Tensor patches, (int H, int W)? grid)
    {
        long b = patches.Size(0), p = patches.Size(1);
        var channelsFirst = patches.Transpose(1, 2); // [B, D, P]
        if (Config.ConvAxis == AnfConvAxis.Sequence)
            return Conv.Forward(channelsFirst).Transpose(1, 2);
        var side = (long)Math.Round(Math.Sqrt(p));
        var (h, w) = grid is { } g ? ((long)g.H, (long)g.W) : (side, side);
        if (h * w != p)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"AdaptiveNoiseFilter: {p} patch tokens do not fill a {h}×{w} grid (the 2-D conv assumes a square grid unless told)"));
        return Conv.Forward(channelsFirst.Reshape(b, Dim, h, w)).Flatten(2).Transpose(1, 2);
    }
}

/// <summary>
/// The ANF filters of a model, keyed by the index of the block each one follows (state-dict keys
/// <c>anf.&lt;block&gt;.*</c>, e.g. <c>anf.0.gate.weight</c> for the filter between blocks 0 and 1).
/// </summary>
public sealed class AdaptiveNoiseFilterStack : Module
{
    private readonly Dictionary<int, AdaptiveNoiseFilter> _filters = [];

    /// <summary>Builds one filter after each block of <see cref="AdaptiveNoiseFilterConfig.ResolveAfterBlocks"/>.</summary>
    public AdaptiveNoiseFilterStack(AdaptiveNoiseFilterConfig config, int depth, int dim, int prefixTokens, double normEps = 1e-6, Device? device = null)
    {
        config.Validate(depth);
        foreach (var b in config.ResolveAfterBlocks(depth))
            _filters[b] = Register(b.ToString(CultureInfo.InvariantCulture), new AdaptiveNoiseFilter(config, dim, prefixTokens, normEps, device));
    }

    /// <summary>Indices of the blocks followed by a filter, ascending.</summary>
    public IReadOnlyList<int> AfterBlocks => _filters.Keys.Order().ToArray();

    /// <summary>The filter after block <paramref name="block"/>, or null.</summary>
    public AdaptiveNoiseFilter? After(int block) => _filters.GetValueOrDefault(block);

    /// <summary>
    /// Applies the filter after block <paramref name="block"/> if there is one (<paramref name="grid"/>: the patch grid's
    /// height and width, null for square); otherwise returns <paramref name="tokens"/> itself.
    /// </summary>
    public Tensor Apply(int block, Tensor tokens, (int H, int W)? grid = null) =>
        _filters.TryGetValue(block, out var f) ? f.Forward(tokens, grid) : tokens;

    /// <summary>Re-initialises every filter (<see cref="AdaptiveNoiseFilter.ResetParameters"/>).</summary>
    public void ResetParameters()
    {
        foreach (var f in _filters.Values) f.ResetParameters();
    }
}
