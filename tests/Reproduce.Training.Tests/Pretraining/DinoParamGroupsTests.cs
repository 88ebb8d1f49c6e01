using Reproduce.Training.Pretraining;
using Reproduce.Vision.Models;
using static Reproduce.Training.Tests.Pretraining.SslFixture;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>DINOv2's fused parameter groups against tests/fixtures/ssl/param_groups.json (gen_param_groups.py).</summary>
public sealed class DinoParamGroupsTests
{
    [Fact]
    public void GroupsEqualTheReference()
    {
        var root = Load("param_groups");
        var backbone = new VitConfig
        {
            ImgSize = 8, PatchSize = 4, InChans = 1, NumClasses = 0, EmbedDim = 8, Depth = root.GetProperty("depth").GetInt32(),
            NumHeads = 2, MlpRatio = 2.0, InitValues = 1e-5,
        };
        using var scope = Scope.Enter();
        using var student = new DinoV2Network(backbone, new DinoHeadConfig(5, 6, 4));
        var names = student.NamedParameters().ToDictionary(x => (object)x.Parameter, x => x.Name, ReferenceEqualityComparer.Instance);
        var groups = DinoParamGroups.Create(student, root.GetProperty("layer_decay").GetDouble(), root.GetProperty("patch_embed_lr_mult").GetDouble());
        var expected = root.GetProperty("groups").EnumerateArray().ToList();
        Assert.Equal(expected.Count, groups.Count);
        // the reference lists the backbone's own tokens before its submodules, so the fused groups may come in another
        // order; each group must hold the same parameters with the same multipliers
        foreach (var e in expected)
        {
            var members = e.GetProperty("params").EnumerateArray().Select(x => x.GetString()!).Order().ToList();
            var g = groups.SingleOrDefault(x => x.Group.Parameters.Select(p => names[p]).Order().SequenceEqual(members));
            Assert.True(g is not null, $"no group holds exactly {string.Join(", ", members)}");
            AssertClose(e.GetProperty("lr_multiplier").GetDouble(), g.LrMultiplier, $"{members[0]} lr multiplier", 1e-15);
            Assert.Equal(e.GetProperty("wd_multiplier").GetDouble(), g.WdMultiplier);
            Assert.Equal(e.GetProperty("is_last_layer").GetBoolean(), g.IsLastLayer);
        }
    }

    [Fact]
    public void ApplyWritesTheScheduledValuesTimesTheMultipliers()
    {
        using var scope = Scope.Enter();
        using var student = new DinoV2Network(new VitConfig { ImgSize = 8, PatchSize = 4, InChans = 1, NumClasses = 0, EmbedDim = 8, Depth = 2, NumHeads = 2 },
            new DinoHeadConfig(5, 6, 4));
        var groups = DinoParamGroups.Create(student);
        DinoParamGroups.Apply(groups, new DinoScheduleValues(Lr: 0.01, WeightDecay: 0.1, Momentum: 0.99, TeacherTemp: 0.05, LastLayerLr: 0));
        foreach (var g in groups)
        {
            Assert.Equal(g.IsLastLayer ? 0 : 0.01 * g.LrMultiplier, g.Group.Lr);
            Assert.Equal(0.1 * g.WdMultiplier, g.Group.WeightDecay);
        }
        Assert.Contains(groups, g => g.IsLastLayer);
    }
}
