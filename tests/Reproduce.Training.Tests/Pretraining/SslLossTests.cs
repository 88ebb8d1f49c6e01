using Reproduce.Testing;
using Reproduce.Training.Pretraining;
using static Reproduce.Training.Tests.Pretraining.SslFixture;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>
/// The DINOv2 loss terms against tests/fixtures/ssl/losses.json (gen_losses.py: a float64 transcription of dinov2's
/// DINOLoss, iBOTPatchLoss and KoLeoLoss), and their gradients against float64 finite differences.
/// </summary>
public sealed class SslLossTests
{
    [Fact]
    public void DinoLossWithEmaCenteringFollowsTheReferenceOverThreeSteps()
    {
        var c = Load("losses").GetProperty("dino_centering");
        var (k, b, ng, nl) = (c.GetProperty("prototypes").GetInt64(), c.GetProperty("batch").GetInt64(),
            c.GetProperty("global_crops").GetInt64(), c.GetProperty("local_crops").GetInt64());
        using var loss = new DinoClsLoss(k, c.GetProperty("student_temp").GetDouble(), c.GetProperty("center_momentum").GetDouble(), ScalarType.Float64);
        var step = 0;
        foreach (var s in c.GetProperty("steps").EnumerateArray())
        {
            using var scope = Scope.Enter();
            var teacher = T(s.GetProperty("teacher"), ng * b, k);
            AssertClose(Doubles(s.GetProperty("center_used")), loss.Center.Center, $"step {step} centre");
            var probs = loss.SoftmaxCenterTeacher(teacher, s.GetProperty("teacher_temp").GetDouble());
            AssertClose(Doubles(s.GetProperty("teacher_probs")), probs, $"step {step} teacher targets");
            loss.UpdateCenter(teacher);
            var student = T(s.GetProperty("student"), (ng + nl) * b, k).RequiresGrad_();
            var value = loss.Compute(student.Chunk(ng + nl), probs.Chunk(ng));
            AssertClose(s.GetProperty("loss").GetDouble(), value.ToDouble(), $"step {step} loss");
            value.Backward();
            AssertClose(Doubles(s.GetProperty("student_grad")), student.Grad!, $"step {step} student gradient");
            step++;
        }
    }

    [Fact]
    public void SinkhornKnoppTargetsEqualTheReference()
    {
        var c = Load("losses").GetProperty("sinkhorn_knopp");
        var k = c.GetProperty("prototypes").GetInt64();
        foreach (var e in c.GetProperty("cases").EnumerateArray())
        {
            using var scope = Scope.Enter();
            var rows = e.GetProperty("rows").GetInt64();
            var teacher = T(e.GetProperty("teacher"), rows, k);
            var total = e.GetProperty("total_samples").GetInt64();
            var probs = total == rows
                ? DinoClsLoss.SinkhornKnoppTeacher(teacher, e.GetProperty("teacher_temp").GetDouble())
                : IbotPatchLoss.SinkhornKnoppTeacher(teacher, e.GetProperty("teacher_temp").GetDouble(), total);
            AssertClose(Doubles(e.GetProperty("probs")), probs, $"Sinkhorn-Knopp {rows}x{k}");
            // each row is a distribution over the prototypes
            AssertClose(Enumerable.Repeat(1.0, (int)rows).ToArray(), probs.Sum(1L), "row sums", 1e-12);
        }
    }

    [Fact]
    public void DinoLossOnSinkhornKnoppTargetsEqualsTheReference()
    {
        var c = Load("losses").GetProperty("dino_sinkhorn");
        var (k, b) = (c.GetProperty("prototypes").GetInt64(), c.GetProperty("batch").GetInt64());
        using var scope = Scope.Enter();
        using var loss = new DinoClsLoss(k, centerType: ScalarType.Float64);
        var teacher = T(c.GetProperty("teacher"), 2 * b, k).Chunk(2);
        var probs = DinoClsLoss.SinkhornKnoppTeacher(Tensor.Cat([teacher[1], teacher[0]]), c.GetProperty("teacher_temp").GetDouble());
        AssertClose(Doubles(c.GetProperty("teacher_probs")), probs, "targets");
        var student = T(c.GetProperty("student"), 2 * b, k).RequiresGrad_();
        var value = loss.Compute([student], [probs]);
        AssertClose(c.GetProperty("loss").GetDouble(), value.ToDouble(), "loss");
        value.Backward();
        AssertClose(Doubles(c.GetProperty("student_grad")), student.Grad!, "student gradient");
    }

    [Fact]
    public void IbotMaskedLossWithCenteringAndMaskWeightsEqualsTheReference()
    {
        var c = Load("losses").GetProperty("ibot");
        var (k, b, n) = (c.GetProperty("prototypes").GetInt64(), c.GetProperty("batch").GetInt64(), c.GetProperty("patches").GetInt64());
        using var outer = Scope.Enter();
        var masks = Tensor.From(Longs(c.GetProperty("masks")), [b, n]).Gt(0.0);
        var m = masks.Sum().ToInt64();
        using var loss = new IbotPatchLoss(k, centerType: ScalarType.Float64);
        var step = 0;
        foreach (var s in c.GetProperty("steps").EnumerateArray())
        {
            using var scope = Scope.Enter();
            AssertClose(Doubles(s.GetProperty("center_used")), loss.Center.Center, $"step {step} centre");
            var teacher = T(s.GetProperty("teacher"), 1, m, k);
            var probs = loss.SoftmaxCenterTeacher(teacher, s.GetProperty("teacher_temp").GetDouble()).Squeeze(0);
            AssertClose(Doubles(s.GetProperty("teacher_probs")), probs, $"step {step} targets");
            loss.UpdateCenter(teacher);
            var weights = IbotPatchLoss.MaskWeights(masks, ScalarType.Float64);
            AssertClose(Doubles(s.GetProperty("masks_weight")), weights, $"step {step} mask weights");
            var student = T(s.GetProperty("student"), m, k).RequiresGrad_();
            var value = loss.ComputeMasked(student, probs, masks, weights);
            AssertClose(s.GetProperty("loss").GetDouble(), value.ToDouble(), $"step {step} loss");
            // the default float32 weights (dinov2's collate) agree to float32 rounding
            AssertClose(s.GetProperty("loss").GetDouble(), loss.ComputeMasked(student.Detach(), probs, masks).ToDouble(), $"step {step} loss (float32 weights)", 1e-6);
            value.Backward();
            AssertClose(Doubles(s.GetProperty("student_grad")), student.Grad!, $"step {step} gradient");
            step++;
        }
        var d = c.GetProperty("dense");
        var sd = T(d.GetProperty("student"), b, n, k).RequiresGrad_();
        var dense = loss.Compute(sd, T(d.GetProperty("teacher_probs"), b, n, k), masks);
        AssertClose(d.GetProperty("loss").GetDouble(), dense.ToDouble(), "dense loss");
        dense.Backward();
        AssertClose(Doubles(d.GetProperty("student_grad")), sd.Grad!, "dense gradient");
    }

    [Fact]
    public void KoLeoEqualsTheReferenceWithTheSameNeighbours()
    {
        foreach (var e in Load("losses").GetProperty("koleo").GetProperty("cases").EnumerateArray())
        {
            using var scope = Scope.Enter();
            var x = T(e.GetProperty("x"), e.GetProperty("rows").GetInt64(), e.GetProperty("dim").GetInt64()).RequiresGrad_();
            var value = KoLeoLoss.Compute(x);
            AssertClose(e.GetProperty("loss").GetDouble(), value.ToDouble(), "KoLeo loss");
            var unit = x.Detach().Div(x.Detach().Norm(2, [-1], keepDim: true));
            Assert.Equal(Longs(e.GetProperty("neighbour")), KoLeoLoss.Neighbours(unit).ToArray<long>());
            value.Backward();
            AssertClose(Doubles(e.GetProperty("grad")), x.Grad!, "KoLeo gradient");
        }
    }

    [Fact]
    public void GradientsPassFiniteDifferenceChecks()
    {
        using var inputs = new Inputs(7);
        using var scope = Scope.Enter();
        using var dino = new DinoClsLoss(5, centerType: ScalarType.Float64);
        var targets = F.Softmax(inputs.Randn(3, 5).Mul(3), -1);
        var targets2 = F.Softmax(inputs.Randn(3, 5).Mul(3), -1);
        GradCheck.Check(a => dino.Compute([a[0], a[1]], [targets, targets2]), inputs.Randn(3, 5), inputs.Randn(3, 5));

        using var ibot = new IbotPatchLoss(5, centerType: ScalarType.Float64);
        var masks = Tensor.From(new long[] { 1, 0, 1, 0, 0, 0, 1, 1, 1 }, [3, 3]).Gt(0.0);
        var patchTargets = F.Softmax(inputs.Randn(5, 5).Mul(3), -1);
        GradCheck.Check(a => ibot.ComputeMasked(a[0], patchTargets, masks, IbotPatchLoss.MaskWeights(masks, ScalarType.Float64)), inputs.Randn(5, 5));
        var denseTargets = F.Softmax(inputs.Randn(3, 3, 5).Mul(3), -1);
        GradCheck.Check(a => ibot.Compute(a[0], denseTargets, masks), inputs.Randn(3, 3, 5));

        // KoLeo: rows far enough apart that no neighbour changes within ±ε
        GradCheck.Check(a => KoLeoLoss.Compute(a[0]), inputs.Randn(6, 4));
    }

    [Fact]
    public void BadInputsAreRefusedWithTheShape()
    {
        using var scope = Scope.Enter();
        using var dino = new DinoClsLoss(4);
        var e = Assert.Throws<ArgumentException>(() => dino.Compute([Torch.Torch.Zeros([2, 4])], [Torch.Torch.Zeros([2, 5])]));
        Assert.Contains("float32[2,5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => dino.SoftmaxCenterTeacher(Torch.Torch.Zeros([2, 3]), 0.04));
        Assert.Contains("4 prototypes", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => dino.SoftmaxCenterTeacher(Torch.Torch.Zeros([2, 4]), 0));
        e = Assert.Throws<ArgumentException>(() => KoLeoLoss.Compute(Torch.Torch.Zeros([1, 3])));
        Assert.Contains("n >= 2", e.Message);
        using var ibot = new IbotPatchLoss(4);
        e = Assert.Throws<ArgumentException>(() => ibot.ComputeMasked(Torch.Torch.Zeros([3, 4]), Torch.Torch.Zeros([3, 4]), Torch.Torch.Zeros([2, 2])));
        Assert.Contains("must be bool [B, N]", e.Message);
        e = Assert.Throws<ArgumentException>(() => ibot.ComputeMasked(Torch.Torch.Zeros([3, 4]), Torch.Torch.Zeros([3, 4]), Torch.Torch.Ones([2, 2]).Gt(0.0)));
        Assert.Contains("one weight per masked patch", e.Message);
    }
}
