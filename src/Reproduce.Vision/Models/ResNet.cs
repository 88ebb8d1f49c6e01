using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Vision.Models;

/// <summary>
/// The Token Labeling annotator: a fully convolutional ResNet (He et al. 2016) laid out as torchvision's <c>ResNet</c>
/// (keys <c>conv1</c>, <c>bn1</c>, <c>layer1.0.conv1</c>, …, <c>layer4.*</c>, <c>fc</c>, so torchvision checkpoints load by
/// name). Besides the usual global-pool classification, its classifier is applied at every spatial location of the
/// un-pooled feature map (as a 1×1 convolution with the <c>fc</c> weights), giving the dense score maps the paper
/// produced with NFNet-F6 (docs/papers/token-labeling.md §1.4: the final classifier "is applied as a 1×1 convolution to the feature map
/// before pooling"): score(i, j) = W·f(i, j) + b. Global average pooling commutes with that linear map, so the classification
/// logits equal the mean of the dense scores. Initialisation is torchvision's: Kaiming-normal (fan_out, ReLU) convs,
/// BN γ = 1 and β = 0, PyTorch's default for <c>fc</c>.
/// </summary>
public sealed class ResNet : Module<Tensor, Tensor>, IDenseScoreModel
{
    private readonly List<Sequential> _stages = [];

    /// <summary>The configuration the model was built from.</summary>
    public ResNetConfig Config { get; }
    /// <summary>Stem convolution.</summary>
    public Conv2d Conv1 { get; }
    /// <summary>Stem BN.</summary>
    public BatchNorm2d Bn1 { get; }
    /// <summary>Residual stages <c>layer1</c>…<c>layerN</c>.</summary>
    public IReadOnlyList<Sequential> Stages => _stages;
    /// <summary>Classifier over the pooled features; applied per location by <see cref="DenseScores"/>.</summary>
    public Linear Fc { get; }

    /// <summary>Builds the model and applies torchvision's initialisation.</summary>
    public ResNet(ResNetConfig config, Device? device = null)
    {
        config.Validate();
        Config = config;
        var w = config.BaseWidth;
        Conv1 = Register("conv1", config.Stem == ResNetStem.ImageNet
            ? new Conv2d(config.InChans, w, 7, stride: 2, padding: 3, bias: false, device: device)
            : new Conv2d(config.InChans, w, 3, stride: 1, padding: 1, bias: false, device: device));
        Bn1 = Register("bn1", new BatchNorm2d(w, device: device));
        var inplanes = w;
        for (var i = 0; i < config.Layers.Length; i++)
        {
            var planes = w << i;
            var stage = new Sequential();
            for (var b = 0; b < config.Layers[i]; b++)
            {
                var stride = b == 0 && i > 0 ? 2 : 1;
                stage.Add(config.Block == ResNetBlockType.Basic
                    ? new BasicBlock(inplanes, planes, stride, device)
                    : new Bottleneck(inplanes, planes, stride, device));
                inplanes = planes * config.Expansion;
            }
            _stages.Add(Register($"layer{i + 1}", stage));
        }
        Fc = Register("fc", new Linear(inplanes, config.NumClasses, device: device));
        InitWeights();
    }

    /// <summary>(Re-)applies torchvision's initialisation (and <see cref="ResNetConfig.ZeroInitResidual"/>).</summary>
    public void InitWeights()
    {
        foreach (var (_, m) in NamedModules())
        {
            switch (m)
            {
                case Conv2d c:
                    Init.KaimingNormal_(c.Weight, fanOut: true);
                    break;
                case BatchNorm2d bn:
                    Init.Ones_(bn.Weight);
                    Init.Zeros_(bn.Bias);
                    break;
                case Linear l:
                {
                    var bound = 1 / Math.Sqrt(l.Weight.Size(1));
                    Init.KaimingUniform_(l.Weight, a: Math.Sqrt(5));
                    if (l.Bias is not null) Init.Uniform_(l.Bias, -bound, bound);
                    break;
                }
            }
        }
        if (!Config.ZeroInitResidual) return;
        foreach (var (_, m) in NamedModules())
        {
            if (m is BasicBlock basic) Init.Zeros_(basic.Bn2.Weight);
            else if (m is Bottleneck bottleneck) Init.Zeros_(bottleneck.Bn3.Weight);
        }
    }

    /// <summary>Images [B, C, H, W] → the un-pooled feature map [B, <see cref="ResNetConfig.NumFeatures"/>, h, w].</summary>
    public Tensor ForwardFeatures(Tensor images)
    {
        var shape = images.Shape;
        if (shape.Length != 4 || shape[1] != Config.InChans)
            throw new ArgumentException($"ResNet: expected images [B, {Config.InChans}, H, W], got {images.Describe()}");
        using var s = Scope.Enter();
        var x = F.Relu(Bn1.Forward(Conv1.Forward(images)));
        if (Config.Stem == ResNetStem.ImageNet) x = F.MaxPool2d(x, [3, 3], [2, 2], [1, 1]);
        foreach (var stage in _stages) x = stage.Forward(x);
        return s.MoveOut(x);
    }

    /// <summary>The classifier at every location: features [B, C, h, w] → scores [B, classes, h, w], W·f(i, j) + b.</summary>
    public Tensor DenseScores(Tensor features)
    {
        using var s = Scope.Enter();
        var weight = Fc.Weight.Reshape(Fc.Weight.Size(0), Fc.Weight.Size(1), 1, 1);
        return s.MoveOut(F.Conv2d(features, weight, Fc.Bias));
    }

    /// <summary>Images → dense score maps [B, classes, h, w] (pre-softmax, as Token Labeling stores them).</summary>
    public Tensor ForwardDense(Tensor images)
    {
        using var s = Scope.Enter();
        return s.MoveOut(DenseScores(ForwardFeatures(images)));
    }

    /// <summary>Global average pooling [B, C, h, w] → [B, C] (torchvision's <c>avgpool</c> + flatten).</summary>
    public static Tensor Pool(Tensor features) => features.Mean([2, 3]);

    /// <summary>Images → classification logits [B, classes] = fc(avgpool(features)).</summary>
    public override Tensor Forward(Tensor input)
    {
        using var s = Scope.Enter();
        return s.MoveOut(Fc.Forward(Pool(ForwardFeatures(input))));
    }
}
