namespace Reproduce.Vision.Models;

/// <summary>Residual block type of a <see cref="ResNet"/> (torchvision's <c>BasicBlock</c> / <c>Bottleneck</c>).</summary>
public enum ResNetBlockType
{
    /// <summary>Two 3×3 convolutions (ResNet-18/34), expansion 1.</summary>
    Basic,
    /// <summary>1×1 → 3×3 (strided, "ResNet v1.5" as torchvision) → 1×1 convolutions (ResNet-50/101/152), expansion 4.</summary>
    Bottleneck,
}

/// <summary>The stem before the residual stages.</summary>
public enum ResNetStem
{
    /// <summary>torchvision's: 7×7 conv stride 2 (pad 3) → BN → ReLU → 3×3 max-pool stride 2 (pad 1); total stride 4.</summary>
    ImageNet,
    /// <summary>For small inputs (28×28, 64×64; CIFAR-style, not torchvision): 3×3 conv stride 1 (pad 1) → BN → ReLU, no pool.</summary>
    Small,
}

/// <summary>
/// Hyper-parameters of the <see cref="ResNet"/> annotator: a fully convolutional ResNet ("Deep Residual Learning",
/// He et al. 2016, laid out as torchvision's <c>resnet</c>) whose classifier can be applied at every location to give
/// the dense score maps Token Labeling needs (the paper used NFNet-F6, papers.md §1.4; a ResNet is our stand-in).
/// Presets: <see cref="ResNet50"/> (torchvision's resnet50, 25,557,032 parameters) and <see cref="Quick"/>.
/// </summary>
public sealed record ResNetConfig
{
    /// <summary>Block type.</summary>
    public ResNetBlockType Block { get; init; } = ResNetBlockType.Bottleneck;
    /// <summary>Blocks per stage (torchvision's <c>layers</c>); stage i has width BaseWidth·2^i and stride 1, 2, 2, 2.</summary>
    public int[] Layers { get; init; } = [3, 4, 6, 3];
    /// <summary>Width of the stem and of the first stage's 3×3 convolutions (torchvision: 64).</summary>
    public int BaseWidth { get; init; } = 64;
    /// <summary>Stem type.</summary>
    public ResNetStem Stem { get; init; } = ResNetStem.ImageNet;
    /// <summary>Input channels.</summary>
    public int InChans { get; init; } = 3;
    /// <summary>Classes of the classifier <c>fc</c>.</summary>
    public int NumClasses { get; init; } = 1000;
    /// <summary>Zero-initialise the last BN γ of each residual branch (torchvision's <c>zero_init_residual</c>, default off).</summary>
    public bool ZeroInitResidual { get; init; }

    /// <summary>Channel expansion of the block type (1 basic, 4 bottleneck).</summary>
    public int Expansion => Block == ResNetBlockType.Basic ? 1 : 4;
    /// <summary>Channels of the final feature map (the classifier's input).</summary>
    public int NumFeatures => BaseWidth * (1 << (Layers.Length - 1)) * Expansion;
    /// <summary>Total stride from the input to the final feature map.</summary>
    public int Stride => (Stem == ResNetStem.ImageNet ? 4 : 1) * (1 << (Layers.Length - 1));

    /// <summary>Side of the dense score map for a square input of <paramref name="size"/> pixels (each stride-2 step rounds up).</summary>
    public int FeatureSize(int size)
    {
        var s = size;
        if (Stem == ResNetStem.ImageNet) s = ((s + 1) / 2 + 1) / 2; // conv 7×7/2 pad 3, then max-pool 3×3/2 pad 1: ⌈⌈s/2⌉/2⌉
        for (var i = 1; i < Layers.Length; i++) s = (s + 1) / 2;
        return s;
    }

    /// <summary>torchvision <c>resnet50</c>: bottleneck [3, 4, 6, 3], width 64, ImageNet stem, 1000 classes.</summary>
    public static ResNetConfig ResNet50 => new();

    /// <summary>torchvision <c>resnet18</c>: basic [2, 2, 2, 2], width 64, ImageNet stem.</summary>
    public static ResNetConfig ResNet18 => new() { Block = ResNetBlockType.Basic, Layers = [2, 2, 2, 2] };

    /// <summary>
    /// The quick-profile annotator (our choice, sized for 2 CPU cores): basic blocks [1, 1, 1, 1], width 16, small stem,
    /// 1 input channel and 10 classes (Fashion-MNIST); 28×28 inputs give 4×4 score maps, 64×64 inputs 8×8;
    /// 308,538 parameters.
    /// </summary>
    public static ResNetConfig Quick => new()
    {
        Block = ResNetBlockType.Basic, Layers = [1, 1, 1, 1], BaseWidth = 16, Stem = ResNetStem.Small, InChans = 1, NumClasses = 10,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException("ResNetConfig: " + message);
        }
        Require(Layers.Length >= 1 && Layers.All(n => n >= 1), $"layers [{string.Join(", ", Layers)}] must be non-empty and positive");
        Require(BaseWidth > 0 && InChans > 0 && NumClasses > 0, $"width {BaseWidth}, channels {InChans} and classes {NumClasses} must be positive");
        Require(Enum.IsDefined(Block) && Enum.IsDefined(Stem), $"unknown block {Block} or stem {Stem}");
    }

    /// <inheritdoc/>
    public bool Equals(ResNetConfig? other) =>
        other is not null && Block == other.Block && Layers.SequenceEqual(other.Layers) && BaseWidth == other.BaseWidth && Stem == other.Stem &&
        InChans == other.InChans && NumClasses == other.NumClasses && ZeroInitResidual == other.ZeroInitResidual;

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Block);
        foreach (var n in Layers) h.Add(n);
        h.Add(BaseWidth);
        h.Add(Stem);
        h.Add(InChans);
        h.Add(NumClasses);
        h.Add(ZeroInitResidual);
        return h.ToHashCode();
    }
}
