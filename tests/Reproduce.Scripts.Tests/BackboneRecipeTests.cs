namespace Reproduce.Scripts.Tests;

/// <summary>scripts/Backbone.fsx's pretraining recipes at the CPU profiles (DINOv2's short config and DeiT's, cut to
/// the profile's budget; DeiT-III refused), checked by BackboneChecks.fsx in one fsi session without training.</summary>
public sealed class BackboneRecipeTests
{
    [Fact]
    public void CpuRecipesReadTheirConfigsCutToTheBudget()
    {
        var r = FsiRunner.Run("tests/Reproduce.Scripts.Tests/BackboneChecks.fsx");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("all backbone checks passed", r.Stdout);
    }
}
