using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Training.Pretraining;

/// <summary>The DINO head's sizes (dinov2 <c>dino.head_*</c> / <c>ibot.head_*</c>; defaults are DINOv2's).</summary>
/// <param name="Prototypes">K, the output dimension (65,536).</param>
/// <param name="HiddenDim">Width of the hidden layers (2048).</param>
/// <param name="BottleneckDim">Width of the bottleneck before the prototypes (256).</param>
/// <param name="Layers">Linear layers of the MLP (3).</param>
public sealed record DinoHeadConfig(long Prototypes = 65536, long HiddenDim = 2048, long BottleneckDim = 256, int Layers = 3);

/// <summary>
/// DINO's projection head (dinov2 <c>layers/dino_head.py</c>, without batch norm):
/// <code>
/// z = MLP(x)          Linear(D→H), GELU, [Linear(H→H), GELU]×(layers−2), Linear(H→bottleneck)   (one Linear(D→bottleneck) when layers = 1)
/// ẑ = z / max(‖z‖, ε)  ε = 1e-12 (1e-6 in float16)
/// y = W ẑ             W weight-normalised, no bias, K prototypes
/// </code>
/// State-dict keys as the reference: <c>mlp.{0,2,4}.weight|bias</c> (<c>mlp.weight|bias</c> for one layer) and <c>last_layer.weight_g|weight_v</c>.
/// MLP weights start at a truncated normal (std 0.02) and biases at zero. The last layer is "frozen for the first
/// epoch" by its learning rate (zero over the first epoch in the reference's last-layer schedule), not here.
/// </summary>
public sealed class DinoHead : Module<Tensor, Tensor>
{
    /// <summary>The head for inputs of width <paramref name="inDim"/>.</summary>
    public DinoHead(long inDim, DinoHeadConfig config, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inDim);
        if (config.Layers < 1) throw new ArgumentOutOfRangeException(nameof(config), config.Layers, "DINO head: at least one layer");
        Config = config;
        var layers = new List<Module<Tensor, Tensor>>();
        if (config.Layers == 1)
            layers.Add(new Linear(inDim, config.BottleneckDim, device: device));
        else
        {
            layers.Add(new Linear(inDim, config.HiddenDim, device: device));
            layers.Add(new Gelu());
            for (var i = 0; i < config.Layers - 2; i++)
            {
                layers.Add(new Linear(config.HiddenDim, config.HiddenDim, device: device));
                layers.Add(new Gelu());
            }
            layers.Add(new Linear(config.HiddenDim, config.BottleneckDim, device: device));
        }
        // one layer is a bare Linear in the reference (keys mlp.weight / mlp.bias), more are a Sequential (mlp.0.weight, ...)
        Mlp = layers.Count == 1 ? Register("mlp", layers[0]) : Register<Module<Tensor, Tensor>>("mlp", new Sequential([.. layers]));
        using (Torch.Torch.NoGrad())
        {
            foreach (var l in layers.OfType<Linear>())
            {
                Init.TruncNormal_(l.Weight, std: 0.02);
                if (l.Bias is not null) Init.Zeros_(l.Bias);
            }
        }
        LastLayer = Register("last_layer", new WeightNormLinear(config.BottleneckDim, config.Prototypes, device));
    }

    /// <summary>The sizes.</summary>
    public DinoHeadConfig Config { get; }

    /// <summary>The MLP up to the bottleneck.</summary>
    public Module<Tensor, Tensor> Mlp { get; }

    /// <summary>The weight-normalised prototypes.</summary>
    public WeightNormLinear LastLayer { get; }

    /// <summary>True for the parameters of the last layer (dinov2's <c>is_last_layer</c>: "last_layer" in the name).</summary>
    public static bool IsLastLayer(string parameterName) => parameterName.Contains("last_layer", StringComparison.Ordinal);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = Scope.Enter();
        var z = Mlp.Forward(input);
        var eps = z.DType == ScalarType.Float16 ? 1e-6 : 1e-12;
        var unit = z.Div(z.Norm(2, [-1], keepDim: true).Clamp(min: eps));
        return scope.MoveOut(LastLayer.Forward(unit));
    }
}
