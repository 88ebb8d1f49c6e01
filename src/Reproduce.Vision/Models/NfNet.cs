using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Vision.Models;

/// <summary>
/// NFNet (Brock et al. 2021, "High-Performance Large-Scale Image Recognition Without Normalization"), laid out as timm's
/// <c>NormFreeNet</c> for the <c>dm_nfnet_f*</c> models so that timm's released weights load by name: <c>stem.conv1…conv4</c>,
/// <c>stages.{i}.{j}.*</c> (<see cref="NormFreeBlock"/>), <c>final_conv</c>, <c>head.fc</c>. No normalisation layers:
/// every conv is a <see cref="ScaledStdConv2d"/> and every GELU is followed by its gain γ (timm's <c>gamma_in_act</c>).
/// Like the <see cref="ResNet"/> annotator, the classifier also runs at every location of the un-pooled features,
/// which is how Token Labeling's NFNet-F6 produced its 18×18 score maps at 576 px (docs/papers/token-labeling.md §1.4);
/// the logits equal the mean of the dense scores. A new model is initialised as timm does (skipinit gains 0, so every block
/// starts as its shortcut; <c>head.fc</c> N(0, 0.01²), bias 0); annotating needs trained weights.
/// </summary>
public sealed class NfNet : Module<Tensor, Tensor>, IDenseScoreModel
{
    private readonly List<ScaledStdConv2d> _stem = [];
    private readonly List<Sequential> _stages = [];

    /// <summary>The configuration the model was built from.</summary>
    public NfNetConfig Config { get; }
    /// <summary>Stages of <see cref="NormFreeBlock"/>s.</summary>
    public IReadOnlyList<Sequential> Stages => _stages;
    /// <summary>1×1 conv to <see cref="NfNetConfig.NumFeatures"/> channels.</summary>
    public ScaledStdConv2d FinalConv { get; }
    /// <summary>The classifier <c>head.fc</c>.</summary>
    public Linear Fc { get; }

    /// <summary>Builds the model.</summary>
    public NfNet(NfNetConfig config, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var stem = Register("stem", new Holder());
        int prev = config.InChans, i = 0;
        foreach (var (c, stride) in config.Stem)
        {
            _stem.Add(stem.Add($"conv{++i}", new ScaledStdConv2d(prev, c, 3, stride, eps: config.StdConvEps, device: device)));
            prev = c;
        }
        var stages = Register("stages", new Sequential());
        foreach (var b in config.Blocks())
        {
            if (b.Index == 0)
            {
                _stages.Add(new Sequential());
                stages.Add(_stages[^1]);
            }
            _stages[^1].Add(new NormFreeBlock(config, b.In, b.Out, b.Stride, b.Beta, b.DropPath, device));
            prev = b.Out;
        }
        FinalConv = Register("final_conv", new ScaledStdConv2d(prev, config.NumFeatures, 1, eps: config.StdConvEps, device: device));
        Fc = Register("head", new Holder()).Add("fc", new Linear(config.NumFeatures, config.NumClasses, device: device));
        InitWeights();
    }

    /// <summary>timm's initialisation: every conv N(0, 1/fan_in) ("kaiming_normal_, linear"), conv biases 0, <c>head.fc</c> N(0, 0.01²) and bias 0; gains 1, skipinit gains 0.</summary>
    public void InitWeights()
    {
        foreach (var (_, m) in NamedModules())
        {
            var (weight, bias) = m switch
            {
                ScaledStdConv2d c => (c.Weight, c.Bias),
                Conv2d c => (c.Weight, c.Bias),
                _ => ((Tensor?)null, (Tensor?)null),
            };
            if (weight is null) continue;
            Init.Normal_(weight, 0, 1 / Math.Sqrt(weight.Numel / weight.Size(0)));
            if (bias is not null) Init.Zeros_(bias);
        }
        Init.Normal_(Fc.Weight, 0, 0.01);
        if (Fc.Bias is not null) Init.Zeros_(Fc.Bias);
    }

    private Tensor Act(Tensor x) => F.Gelu(x).Mul(Config.ActGamma);

    /// <summary>Images [B, C, H, W] → the un-pooled features after the final conv and GELU [B, <see cref="NfNetConfig.NumFeatures"/>, h, w].</summary>
    public Tensor ForwardFeatures(Tensor images)
    {
        var shape = images.Shape;
        if (shape.Length != 4 || shape[1] != Config.InChans)
            throw new ArgumentException($"NfNet: expected images [B, {Config.InChans}, H, W], got {images.Describe()}");
        using var s = Scope.Enter();
        var x = images;
        for (var i = 0; i < _stem.Count; i++) x = i == 0 ? _stem[i].Forward(x) : _stem[i].Forward(Act(x));
        foreach (var stage in _stages) x = stage.Forward(x);
        return s.MoveOut(Act(FinalConv.Forward(x)));
    }

    /// <summary>The classifier at every location: features [B, F, h, w] → scores [B, classes, h, w], W·f(i, j) + b.</summary>
    public Tensor DenseScores(Tensor features)
    {
        using var s = Scope.Enter();
        var weight = Fc.Weight.Reshape(Fc.Weight.Size(0), Fc.Weight.Size(1), 1, 1);
        return s.MoveOut(F.Conv2d(features, weight, Fc.Bias));
    }

    /// <inheritdoc/>
    public Tensor ForwardDense(Tensor images)
    {
        using var s = Scope.Enter();
        return s.MoveOut(DenseScores(ForwardFeatures(images)));
    }

    /// <summary>Images → logits [B, classes] = head.fc(avgpool(features)).</summary>
    public override Tensor Forward(Tensor input)
    {
        using var s = Scope.Enter();
        return s.MoveOut(Fc.Forward(ForwardFeatures(input).Mean([2, 3])));
    }

    // A key prefix with named children and no forward of its own (timm's stem Sequential with named convs, head).
    private sealed class Holder : Module
    {
        public T Add<T>(string name, T child) where T : Module => Register(name, child);
    }
}
