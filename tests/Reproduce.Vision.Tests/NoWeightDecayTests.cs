using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;

namespace Reproduce.Vision.Tests;

/// <summary>
/// The models declare their no-weight-decay names (timm's <c>no_weight_decay()</c>); the optimizer groups built from
/// them equal the groups of the ViT name list the optimizer used to hard-code, for every family.
/// </summary>
public class NoWeightDecayTests
{
    private static readonly string[] FormerList = ["pos_embed", "cls_token", "reg_token", "dist_token"];

    [Theory]
    [InlineData("vit_tiny_fm28", "")]
    [InlineData("vit_tiny_fm28", "reg_tokens=4")]
    [InlineData("vit_tiny_scenes64", "")]
    [InlineData("lvvit_tiny_fm28", "")]
    [InlineData("lvvit_t", "")]
    [InlineData("resnet_tiny_fm28", "")]
    [InlineData("resnet18", "")]
    public void ModelDeclaredSetGivesTheFormerGroups(string name, string set)
    {
        var overrides = set.Length == 0 ? [] : new[] { ModelOptions.ParseAssignment(set) };
        using var model = ModelRegistry.Create(name, overrides);
        var names = new Dictionary<Parameter, string>(ReferenceEqualityComparer.Instance);
        foreach (var (n, p) in model.NamedParameters()) names[p] = n;
        static (string?, double, string[])[] Describe(List<ParamGroup> groups, Dictionary<Parameter, string> names) =>
            groups.Select(g => (g.Name, g.WeightDecay, g.Parameters.Select(p => names[p]).ToArray())).ToArray();

        var now = Describe(ParamGroups.WeightDecayExclusion(model, 0.05), names);
        var before = Describe(ParamGroups.WeightDecayExclusion(model, 0.05, FormerList), names);
        Assert.Equal(before.Length, now.Length);
        for (var g = 0; g < now.Length; g++)
        {
            Assert.Equal(before[g].Item1, now[g].Item1);
            Assert.Equal(before[g].Item2, now[g].Item2);
            Assert.Equal(before[g].Item3, now[g].Item3);
        }
        if (model is VisionTransformer) Assert.Contains("pos_embed", now[0].Item3);
        else Assert.Empty(model.NoWeightDecay());
    }
}
