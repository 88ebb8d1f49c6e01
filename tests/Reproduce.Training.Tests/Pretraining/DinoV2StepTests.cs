using System.Text.Json;
using Reproduce.Training.Pretraining;
using Reproduce.Vision.Models;
using static Reproduce.Training.Tests.Pretraining.SslFixture;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>
/// Two DINOv2 student/teacher steps on a tiny ViT against tests/fixtures/ssl/step.json (gen_step.py: dinov2's
/// forward_backward and update_teacher in float64 PyTorch), with EMA centering and with Sinkhorn–Knopp: every loss
/// term of both steps, the teacher after the first EMA update, and every student gradient of the second step.
/// </summary>
public sealed class DinoV2StepTests
{
    private static readonly VitConfig Backbone = new()
    {
        ImgSize = 8, PatchSize = 4, InChans = 1, NumClasses = 0, EmbedDim = 8, Depth = 1, NumHeads = 2, MlpRatio = 2.0,
    };

    private static Dictionary<string, Tensor> State(JsonElement e) => e.EnumerateObject().ToDictionary(p => p.Name,
        p => T(p.Value.GetProperty("values"), Longs(p.Value.GetProperty("shape"))));

    [Theory]
    [InlineData("centering")]
    [InlineData("sinkhorn_knopp")]
    public void TwoStepsEqualTheReference(string name)
    {
        var c = Load("step").GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        var centering = c.GetProperty("centering").GetBoolean() ? TeacherCentering.Centering : TeacherCentering.SinkhornKnopp;
        using var outer = Scope.Enter();
        using var step = new DinoV2Step(Backbone, new DinoHeadConfig(c.GetProperty("prototypes").GetInt64(), 6, 4),
            settings: new DinoV2LossSettings(Centering: centering), centerType: ScalarType.Float64);
        step.Student.To(ScalarType.Float64);
        step.Teacher.To(ScalarType.Float64);
        var initial = State(c.GetProperty("initial"));
        Assert.Equal(initial.Keys.Order(), step.Student.StateDict().Keys.Order());
        step.Student.LoadStateDict(initial);
        step.Teacher.LoadStateDict(initial);
        var batches = c.GetProperty("batches");
        var steps = c.GetProperty("steps");
        for (var s = 0; s < 2; s++)
        {
            using var scope = Scope.Enter();
            var b = batches[s];
            var batch = new DinoV2Batch(T(b.GetProperty("global_crops"), 4, 1, 8, 8), T(b.GetProperty("local_crops"), 6, 1, 8, 8),
                Tensor.From(Longs(b.GetProperty("masks")), [4, 4]).Gt(0.0));
            var r = steps[s];
            step.Student.ZeroGrad();
            var losses = step.Compute(batch, r.GetProperty("teacher_temp").GetDouble());
            AssertClose(r.GetProperty("dino_local").GetDouble(), losses.DinoLocal, $"step {s} DINO local");
            AssertClose(r.GetProperty("dino_global").GetDouble(), losses.DinoGlobal, $"step {s} DINO global");
            AssertClose(r.GetProperty("koleo").GetDouble(), losses.KoLeo, $"step {s} KoLeo");
            AssertClose(r.GetProperty("ibot").GetDouble(), losses.Ibot, $"step {s} iBOT");
            AssertClose(r.GetProperty("total").GetDouble(), losses.Total.ToDouble(), $"step {s} total");
            losses.Total.Backward();
            Assert.All(step.Teacher.Parameters(), p => Assert.Null(p.Grad));
            if (s == 0)
            {
                using (Torch.Torch.NoGrad())
                    foreach (var p in step.Student.Parameters()) p.Sub_(p.Grad!, 0.05);
                step.UpdateTeacher(0.9);
                var teacher = step.Teacher.StateDict();
                foreach (var p in r.GetProperty("teacher_after").EnumerateObject())
                    AssertClose(Doubles(p.Value), teacher[p.Name], $"teacher {p.Name} after the EMA update");
            }
            else
            {
                var student = step.Student.NamedParameters().ToDictionary(x => x.Name, x => x.Parameter);
                foreach (var g in r.GetProperty("grads").EnumerateObject())
                    AssertClose(Doubles(g.Value), student[g.Name].Grad!, $"student gradient {g.Name}", 1e-9);
            }
        }
    }

    [Fact]
    public void BadBatchesAreRefusedWithTheirShapes()
    {
        using var scope = Scope.Enter();
        using var step = new DinoV2Step(Backbone, new DinoHeadConfig(5, 6, 4));
        var e = Assert.Throws<ArgumentException>(() => step.Compute(
            new DinoV2Batch(Torch.Torch.Zeros([3, 1, 8, 8]), null, Torch.Torch.Zeros([3, 4]).Gt(0.0)), 0.04));
        Assert.Contains("[2·B, C, H, W]", e.Message);
        e = Assert.Throws<ArgumentException>(() => step.Compute(
            new DinoV2Batch(Torch.Torch.Zeros([2, 1, 8, 8]), null, Torch.Torch.Zeros([2, 3]).Gt(0.0)), 0.04));
        Assert.Contains("bool [2, 4]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => step.UpdateTeacher(1.5));
        // no masked patch: no iBOT term, and the iBOT centre stays where it was
        using var inputs = new Reproduce.Testing.Inputs(2);
        var losses = step.Compute(new DinoV2Batch(inputs.Randn(4, 1, 8, 8).Float(), null, Torch.Torch.Zeros([4, 4]).Gt(0.0)), 0.04);
        Assert.Equal(0, losses.Ibot);
        Assert.True(double.IsFinite(losses.Total.ToDouble()));
        Assert.Equal(new float[5], step.IbotLoss.Center.Center.ToArray<float>());
    }
}
