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
/// the dense score maps Token Labeling needs (the paper used NFNet-F6, docs/papers/token-labeling.md §1.4; a ResNet is our stand-in).
/// Presets: <see cref="ResNet50"/> (torchvision's resnet50, 25,557,032 parameters), <see cref="ResNet18"/> and
/// <see cref="Quick"/> / <see cref="QuickObjects"/>; registered as <c>resnet50</c>, <c>resnet18</c>, <c>resnet_tiny_fm28</c> and
/// <c>resnet_tiny_objects64</c> in <see cref="ModelRegistry"/>.
/// </summary>
public sealed record ResNetConfig : IModelConfig
{
    /// <summary>Default input side in pixels (the network itself is fully convolutional and takes any size).</summary>
    public int ImgSize { get; init; } = 224;
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

    /// <summary>
    /// Trainable parameters, from the layout: the stem conv C·w·k² (k = 7, or 3 for the small stem) and its BN 2w; per
    /// block its convolutions (basic: 9·in·p + 9·p²; bottleneck: in·p + 9·p² + p·4p) and a BN (2 per channel) after each,
    /// plus the projection shortcut in·out + 2·out where the shape changes; the classifier F·K + K.
    /// </summary>
    public long ParamCount()
    {
        long w = BaseWidth, total = InChans * w * (Stem == ResNetStem.ImageNet ? 49 : 9) + 2 * w, inplanes = w;
        ForEachBlock((planes, stride, _, _) =>
        {
            var output = planes * Expansion;
            total += Block == ResNetBlockType.Basic
                ? 9 * inplanes * planes + 2 * planes + 9 * planes * planes + 2 * planes
                : inplanes * planes + 2 * planes + 9 * planes * planes + 2 * planes + planes * output + 2 * output;
            if (stride != 1 || inplanes != output) total += inplanes * output + 2 * output;
            inplanes = output;
        });
        return total + inplanes * NumClasses + NumClasses;
    }

    /// <summary>
    /// Forward GMACs of one image at <see cref="ImgSize"/> (1 multiply-accumulate = 1 FLOP, as torchvision's and fvcore's
    /// tables): every convolution's k²·in·out per output location, and the classifier; BN, ReLU, pooling and the residual
    /// adds are not counted. ResNet-50 at 224: 4.09 (torchvision lists 4.09 GFLOPS).
    /// </summary>
    public double Gflops()
    {
        double w = BaseWidth, inplanes = w, total = 0;
        var s = Stem == ResNetStem.ImageNet ? (ImgSize + 1) / 2 : ImgSize;
        total += (double)s * s * InChans * w * (Stem == ResNetStem.ImageNet ? 49 : 9);
        ForEachBlock((planes, stride, sizeIn, sizeOut) =>
        {
            var output = planes * Expansion;
            double a = (double)sizeIn * sizeIn, b = (double)sizeOut * sizeOut;
            total += Block == ResNetBlockType.Basic
                ? b * (9 * inplanes * planes + 9.0 * planes * planes)
                : a * inplanes * planes + b * (9.0 * planes * planes + (double)planes * output);
            if (stride != 1 || inplanes != output) total += b * inplanes * output;
            inplanes = output;
        });
        return (total + inplanes * NumClasses) / 1e9;
    }

    /// <summary>Visits every residual block: planes, stride, input and output side at <see cref="ImgSize"/>.</summary>
    private void ForEachBlock(Action<int, int, int, int> visit)
    {
        var size = Stem == ResNetStem.ImageNet ? ((ImgSize + 1) / 2 + 1) / 2 : ImgSize;
        for (var i = 0; i < Layers.Length; i++)
            for (var b = 0; b < Layers[i]; b++)
            {
                var stride = b == 0 && i > 0 ? 2 : 1;
                var next = stride == 2 ? (size + 1) / 2 : size;
                visit(BaseWidth << i, stride, size, next);
                size = next;
            }
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
        Block = ResNetBlockType.Basic, Layers = [1, 1, 1, 1], BaseWidth = 16, Stem = ResNetStem.Small, InChans = 1, NumClasses = 10, ImgSize = 28,
    };

    /// <summary>
    /// The quick-profile annotator for fashion-objects (64×64 RGB): <see cref="Quick"/> with 3 input channels at 64×64.
    /// Stride 8 gives 8×8 score maps, exactly <c>vit_tiny_scenes64</c>'s patch-8 token grid (the fm28 annotator's 4×4
    /// maps are upsampled to the 7×7 grid by the aligner; here no resampling is needed); 308,826 parameters.
    /// </summary>
    public static ResNetConfig QuickObjects => Quick with { InChans = 3, ImgSize = 64 };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException("ResNetConfig: " + message);
        }
        Require(Layers.Length >= 1 && Layers.All(n => n >= 1), $"layers [{string.Join(", ", Layers)}] must be non-empty and positive");
        Require(BaseWidth > 0 && InChans > 0 && NumClasses > 0 && ImgSize > 0, $"width {BaseWidth}, channels {InChans}, classes {NumClasses} and image size {ImgSize} must be positive");
        Require(Enum.IsDefined(Block) && Enum.IsDefined(Stem), $"unknown block {Block} or stem {Stem}");
    }

    /// <inheritdoc/>
    public bool Equals(ResNetConfig? other) =>
        other is not null && ImgSize == other.ImgSize && Block == other.Block && Layers.SequenceEqual(other.Layers) && BaseWidth == other.BaseWidth && Stem == other.Stem &&
        InChans == other.InChans && NumClasses == other.NumClasses && ZeroInitResidual == other.ZeroInitResidual;

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(ImgSize);
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
