using System.Text.Json;
using Reproduce.Vision.Models.Heads;

namespace Reproduce.Vision.Tests;

/// <summary>
/// The UperNet head (Token Labeling's side layers, mmseg's UPerHead and auxiliary FCNHead) against a plain-PyTorch
/// transcription loaded under the released checkpoints' key names (tests/fixtures/gen_upernet.py).
/// </summary>
public sealed class UperNetHeadTests
{
    private static readonly JsonElement Ref =
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "upernet_reference.json"))).RootElement;

    private static int Size(string name) => Ref.GetProperty("sizes").GetProperty(name).GetInt32();

    private static UperNetHead Build(UperNetOptions? options = null) =>
        new(Size("embed_dim"), Size("classes"), options ?? new UperNetOptions(Size("channels"), Size("neck_channels"), Size("aux_channels"),
            Ref.GetProperty("sizes").GetProperty("aux_weight").GetDouble()));

    private static UperNetHead Loaded()
    {
        var head = Build();
        var state = Ref.GetProperty("state_dict").EnumerateObject().ToDictionary(p => p.Name, p => TensorData.Parse(p.Value).ToTensor());
        // The fixture leaves out num_batches_tracked (not used in eval); every other key must match by name.
        var result = head.LoadStateDict(state, strict: false);
        Assert.Empty(result.UnexpectedKeys);
        Assert.All(result.MissingKeys, k => Assert.EndsWith("num_batches_tracked", k));
        head.Eval();
        return head;
    }

    private static IntermediateLayer[] Maps() =>
        [.. Ref.GetProperty("maps").EnumerateArray().Select((m, i) => new IntermediateLayer(i, TensorData.Parse(m).ToTensor(), null))];

    [Fact]
    public void StateDictKeysAreTheReleasedCheckpointsKeys()
    {
        using var scope = Scope.Enter();
        using var head = Build();
        var expected = Ref.GetProperty("state_dict").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal);
        var ours = head.StateDict().Keys.Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        Assert.Equal(expected, ours);
        Assert.Contains("decode_head.psp_modules.0.1.conv.weight", ours);
        Assert.Contains("backbone.side_layer1.3.weight", ours);
    }

    [Fact]
    public void ForwardEqualsPyTorchWithin1e4()
    {
        using var scope = Scope.Enter();
        using var head = Loaded();
        var maps = Maps();
        var pyramid = head.Pyramid(maps);
        var shapes = Ref.GetProperty("pyramid_shapes").EnumerateArray().Select(s => s.EnumerateArray().Select(x => x.GetInt64()).ToArray()).ToList();
        Assert.Equal(shapes, pyramid.Select(p => p.Shape));
        using (Torch.Torch.NoGrad())
        {
            Assertions.Close(TensorData.Parse(Ref.GetProperty("decode_logits")), head.DecodeHead.Forward(pyramid), 1e-4, "decode logits");
            Assertions.Close(TensorData.Parse(Ref.GetProperty("logits")), head.Forward(maps, Size("height"), Size("width")), 1e-4, "resized logits");
            Assertions.Close(TensorData.Parse(Ref.GetProperty("aux_logits")), head.AuxiliaryLogits(pyramid)!, 1e-4, "auxiliary logits");
        }
    }

    [Fact]
    public void LossIsDecodePlusWeightedAuxiliaryCrossEntropyAsMmseg()
    {
        using var scope = Scope.Enter();
        using var head = Loaded();
        var labels = Tensor.From(Ref.GetProperty("labels").EnumerateArray().Select(v => (long)v.GetInt32()).ToArray(),
            [Size("batch"), Size("height"), Size("width")]);
        var loss = head.Loss(Maps(), labels, Size("height"), Size("width"), 255).ToDouble();
        Assert.Equal(Ref.GetProperty("loss").GetDouble(), loss, 1e-4);
    }

    [Fact]
    public void TrainingStepReachesEveryParameter()
    {
        using var scope = Scope.Enter();
        using var head = Build();
        head.Train();
        var labels = Torch.Torch.Randint(0, Size("classes"), [Size("batch"), Size("height"), Size("width")]);
        head.Loss(Maps(), labels, Size("height"), Size("width"), 255).Backward();
        var without = head.NamedParameters().Where(p => p.Parameter.Grad is null).Select(p => p.Name).ToList();
        Assert.Empty(without);
    }

    [Fact]
    public void WithoutAuxiliaryWeightTheHeadHasNoAuxiliaryKeys()
    {
        using var scope = Scope.Enter();
        using var head = Build(new UperNetOptions(Size("channels"), Size("neck_channels"), AuxWeight: 0));
        Assert.Null(head.AuxiliaryHead);
        Assert.DoesNotContain(head.StateDict().Keys, k => k.StartsWith("auxiliary_head.", StringComparison.Ordinal));
    }

    [Fact]
    public void WrongMapCountIsAClearError()
    {
        using var scope = Scope.Enter();
        using var head = Build();
        var e = Assert.Throws<ArgumentException>(() => head.Forward(Maps()[..3], 8, 8));
        Assert.Contains("expected 4 patch maps (probe.layers with 4 blocks), got 3", e.Message);
    }
}
