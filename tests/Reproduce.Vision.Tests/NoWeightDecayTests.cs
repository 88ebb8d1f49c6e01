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
    [InlineData("vit_tiny_fm28", 0)]
    [InlineData("vit_tiny_fm28", 4)]
    [InlineData("vit_tiny_scenes64", 0)]
    [InlineData("lvvit_tiny_fm28", 0)]
    [InlineData("lvvit_t", 0)]
    [InlineData("resnet_tiny_fm28", 0)]
    [InlineData("resnet18", 0)]
    public void ModelDeclaredSetGivesTheFormerGroups(string name, int regTokens)
    {
        var entry = ModelRegistry.Get(name);
        if (regTokens > 0) entry = entry.With((VitConfig c) => c with { RegTokens = regTokens });
        using var model = entry.Create();
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
