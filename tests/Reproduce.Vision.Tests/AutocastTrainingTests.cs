using System.Text.Json;
using Reproduce.Torch.Optim;

namespace Reproduce.Vision.Tests;

/// <summary>
/// 20 AdamW steps of a tiny ViT with the forward and loss in CPU bf16 autocast, against the same steps in Debian's
/// PyTorch (tests/fixtures/gen_autocast.py, "training"): the weights, their gradients and the optimizer state stay
/// float32 (master weights) while the logits come out in bf16, and every step's loss is PyTorch's within bf16 rounding.
/// </summary>
[Collection(nameof(SerialTests))]
public class AutocastTrainingTests
{
    private static readonly Lazy<JsonElement> Training = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "autocast_reference.json"))).RootElement.GetProperty("training"));

    private static double[] Losses(string run) =>
        Training.Value.GetProperty(run).GetProperty("losses").EnumerateArray().Select(x => x.GetDouble()).ToArray();

    /// <summary>The fixture's training loop in C#: returns each step's loss and the logits' dtype.</summary>
    private static (double[] Losses, ScalarType LogitsDtype) Train(bool autocast)
    {
        var t = Training.Value;
        var cfg = t.GetProperty("config");
        var config = new VitConfig
        {
            ImgSize = cfg.GetProperty("img_size").GetInt32(),
            PatchSize = cfg.GetProperty("patch_size").GetInt32(),
            InChans = cfg.GetProperty("in_chans").GetInt32(),
            NumClasses = cfg.GetProperty("num_classes").GetInt32(),
            GlobalPool = GlobalPool.Token,
            EmbedDim = cfg.GetProperty("embed_dim").GetInt32(),
            Depth = cfg.GetProperty("depth").GetInt32(),
            NumHeads = cfg.GetProperty("num_heads").GetInt32(),
            MlpRatio = cfg.GetProperty("mlp_ratio").GetDouble(),
            QkvBias = cfg.GetProperty("qkv_bias").GetBoolean(),
        };
        using var model = new VisionTransformer(config);
        using var outer = Scope.Enter();
        var state = t.GetProperty("state_dict").EnumerateObject().ToDictionary(p => p.Name, p => TensorData.Parse(p.Value).ToTensor());
        var loaded = model.LoadStateDict(state);
        Assert.Empty(loaded.MissingKeys);
        model.Train();
        var x = TensorData.Parse(t.GetProperty("input")).ToTensor();
        var y = Tensor.From(t.GetProperty("target").EnumerateArray().Select(v => v.GetInt64()).ToArray());
        var opt = new AdamW(model.Parameters(), lr: t.GetProperty("lr").GetDouble(), weightDecay: t.GetProperty("weight_decay").GetDouble());
        var losses = new double[t.GetProperty("steps").GetInt32()];
        ScalarType? dtype = null;
        for (var step = 0; step < losses.Length; step++)
        {
            using var scope = Scope.Enter();
            opt.ZeroGrad();
            Tensor loss;
            using (autocast ? Torch.Torch.Autocast(DeviceType.Cpu, ScalarType.BFloat16) : null)
            {
                var logits = model.Forward(x);
                dtype = logits.DType;
                loss = F.CrossEntropy(logits, y);
            }
            loss.Backward();
            opt.Step();
            losses[step] = loss.ToDouble();
        }
        foreach (var (name, p) in model.NamedParameters())
        {
            Assert.True(p.DType == ScalarType.Float32, $"{name} is {p.DType.Name()} after bf16 autocast steps (master weights stay float32)");
            Assert.True(p.Grad!.DType == ScalarType.Float32, $"{name}.grad is {p.Grad.DType.Name()}");
        }
        return (losses, dtype!.Value);
    }

    /// <summary>Max |a − b| over the steps, with the step where it occurs.</summary>
    private static (double Gap, int Step) Gap(double[] a, double[] b) =>
        a.Zip(b, (u, v) => Math.Abs(u - v)).Select((d, i) => (d, i)).MaxBy(p => p.d);

    [Fact]
    public void Bf16StepsFollowPyTorchsBf16LossesAndKeepFloat32MasterWeights()
    {
        var (bf16, dtype) = Train(autocast: true);
        Assert.Equal(Training.Value.GetProperty("bf16").GetProperty("logits_dtype").GetString(), dtype.Name());
        Assert.Equal(ScalarType.BFloat16, dtype);
        var (gap, step) = Gap(bf16, Losses("bf16"));
        // bf16 keeps 8 significant bits: one rounding of a ~1.0 loss is 4e-3; the same kernels in the same order stay far inside it.
        Assert.True(gap <= 1e-3, $"bf16 loss differs from PyTorch's by {gap:G3} at step {step + 1} ({bf16[step]} vs {Losses("bf16")[step]})");
        // The tolerance tells bf16 from fp32 training: PyTorch's own fp32 run leaves it.
        var (apart, _) = Gap(Losses("bf16"), Losses("fp32"));
        Assert.True(apart > 1e-3, $"PyTorch's bf16 and fp32 losses are only {apart:G3} apart; the fixture cannot tell them apart");
        Assert.True(bf16[^1] < bf16[0] - 0.5, $"20 steps on one batch should fit it: loss {bf16[0]} -> {bf16[^1]}");
    }

    [Fact]
    public void Fp32StepsFollowPyTorchsFp32Losses()
    {
        var (fp32, dtype) = Train(autocast: false);
        Assert.Equal(ScalarType.Float32, dtype);
        var (gap, step) = Gap(fp32, Losses("fp32"));
        Assert.True(gap <= 1e-4, $"fp32 loss differs from PyTorch's by {gap:G3} at step {step + 1}");
    }
}
