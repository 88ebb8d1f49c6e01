namespace Reproduce.Vision.Tests;

/// <summary>Logits equality with the plain-PyTorch timm re-statement in tests/fixtures/gen_vit.py.</summary>
public class VitReferenceTests
{
    public static TheoryData<string> Cases => new(Reference.CaseNames);

    [Theory]
    [MemberData(nameof(Cases))]
    public void FeaturesAndLogitsMatchPyTorch(string name)
    {
        var rc = Reference.Case(name);
        using var model = new VisionTransformer(rc.Config);
        using var scope = Scope.Enter();

        // Same keys in the same order as the PyTorch module's state_dict().
        Assert.Equal(rc.StateDict.Select(kv => kv.Key), model.NamedParameters().Select(p => p.Name));
        var result = model.LoadStateDict(rc.StateDictTensors());
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);

        model.Eval();
        using (Torch.Torch.NoGrad())
        {
            var input = rc.Input.ToTensor();
            var features = model.ForwardFeatures(input);
            Assertions.Close(rc.Features, features, 1e-5, $"{name} features");
            Assertions.Close(rc.Logits, model.ForwardHead(features), 1e-5, $"{name} logits");
            Assertions.Close(rc.Logits, model.Forward(input), 1e-5, $"{name} Forward");
        }
    }

    [Fact]
    public void TrainModeWithoutStochasticLayersGivesTheSameLogitsWithGradients()
    {
        var rc = Reference.Case("token_qkvbias");
        using var model = new VisionTransformer(rc.Config);
        using var scope = Scope.Enter();
        model.LoadStateDict(rc.StateDictTensors());
        model.Train();
        var logits = model.Forward(rc.Input.ToTensor());
        Assertions.Close(rc.Logits, logits, 1e-5, "train-mode logits");
        logits.Square().Sum().Backward();
        foreach (var (key, p) in model.NamedParameters())
            Assert.True(p.Grad is not null, $"no gradient reached {key}");
    }
}
