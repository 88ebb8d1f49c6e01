using Reproduce.Torch;
using Reproduce.Torch.Distributed;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Pretraining;

/// <summary>How the teacher's targets are made (dinov2 <c>train.centering</c>).</summary>
public enum TeacherCentering
{
    /// <summary>EMA centering then a tempered softmax ("centering").</summary>
    Centering,
    /// <summary>Sinkhorn–Knopp, 3 iterations ("sinkhorn_knopp").</summary>
    SinkhornKnopp,
}

/// <summary>The loss weights and switches of a DINOv2 step (dinov2 <c>dino.*</c>, <c>ibot.*</c>, <c>train.centering</c>).</summary>
/// <param name="DinoWeight">dino.loss_weight (1).</param>
/// <param name="KoLeoWeight">dino.koleo_loss_weight (0.1).</param>
/// <param name="IbotWeight">ibot.loss_weight (1; 0 turns iBOT off).</param>
/// <param name="Centering">train.centering.</param>
public sealed record DinoV2LossSettings(double DinoWeight = 1.0, double KoLeoWeight = 0.1, double IbotWeight = 1.0,
    TeacherCentering Centering = TeacherCentering.Centering);

/// <summary>The loss terms of one step (dinov2's <c>loss_dict</c> before its display rescaling) and their weighted sum.</summary>
public sealed record DinoV2Losses(Tensor Total, double DinoLocal, double DinoGlobal, double KoLeo, double Ibot);

/// <summary>
/// A DINOv2 student/teacher step (dinov2 <c>SSLMetaArch.forward_backward</c> and <c>update_teacher</c>), for a
/// batch of B images with 2 global and L local crops and M masked global-crop patches:
/// <code>
/// teacher (no grad): [CLS] of the global crops, the two crops swapped (A is matched to B); the masked patches; heads;
///                    targets by centering (then the centres move) or Sinkhorn–Knopp
/// student:           global crops with the masks, local crops without; the head on local [CLS], global [CLS], masked patches
/// T = 2 + 2L         (number of DINO loss terms)
/// L_dino  = DINO(local crops vs both teacher crops)/T + 2·DINO(global vs swapped teacher)/T
/// L_koleo = w_k · Σ over the two global crops of KoLeo(student backbone [CLS])
/// L_ibot  = iBOT masked loss (the factors 2 and ½ of the reference cancel)
/// total   = w_dino·L_dino + L_koleo + w_ibot·L_ibot
/// </code>
/// The teacher is the student's EMA, θ_t ← m·θ_t + (1 − m)·θ_s (<see cref="UpdateTeacher"/>), with m from
/// <see cref="DinoSchedules"/>. The optimizer, clipping and schedules stay with the caller.
/// </summary>
public sealed class DinoV2Step : IDisposable
{
    /// <summary>Builds student and teacher (the teacher a copy of the student, without gradients) and the losses.</summary>
    public DinoV2Step(VitConfig backbone, DinoHeadConfig dinoHead, DinoHeadConfig? ibotHead = null, DinoV2LossSettings? settings = null,
        ScalarType centerType = ScalarType.Float32, Device? device = null)
    {
        Settings = settings ?? new DinoV2LossSettings();
        Student = new DinoV2Network(backbone, dinoHead, ibotHead, device);
        Teacher = new DinoV2Network(backbone, dinoHead, ibotHead, device);
        Teacher.LoadStateDict(Student.StateDict());
        foreach (var p in Teacher.Parameters()) p.RequiresGrad = false;
        Teacher.Eval(); // dinov2 builds the teacher without drop path
        DinoLoss = new DinoClsLoss(dinoHead.Prototypes, centerType: centerType, device: device);
        IbotLoss = new IbotPatchLoss((ibotHead ?? dinoHead).Prototypes, centerType: centerType, device: device);
    }

    /// <summary>Loss weights and the centering kind.</summary>
    public DinoV2LossSettings Settings { get; }

    /// <summary>The trained network.</summary>
    public DinoV2Network Student { get; }

    /// <summary>The EMA network (its backbone is the pretrained model).</summary>
    public DinoV2Network Teacher { get; }

    /// <summary>The DINO loss and its centre.</summary>
    public DinoClsLoss DinoLoss { get; }

    /// <summary>The iBOT loss and its centre.</summary>
    public IbotPatchLoss IbotLoss { get; }

    /// <summary>The losses of <paramref name="batch"/> at teacher temperature <paramref name="teacherTemp"/>; the caller back-propagates <see cref="DinoV2Losses.Total"/>.</summary>
    public DinoV2Losses Compute(DinoV2Batch batch, double teacherTemp, ProcessGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Validate();
        var patch = Student.Backbone.Config.PatchSize;
        var patches = batch.GlobalCrops.Size(2) / patch * (batch.GlobalCrops.Size(3) / patch);
        if (batch.Masks.Size(1) != patches)
            throw new ArgumentException($"DINOv2 batch: masks {batch.Masks.Describe()} must be bool [{batch.Masks.Size(0)}, {patches}] for global crops {batch.GlobalCrops.Describe()}");
        using var scope = Scope.Enter();
        var b = batch.Images;
        var nLocal = batch.LocalCropCount;
        var maskIndices = batch.Masks.Flatten().Nonzero().Flatten();
        // a batch without masked patches has no iBOT term (the reference would average an empty set into its centre);
        // under a group the count is the whole job's, so every rank runs the same graph and the same collectives
        var totalMasked = (double)maskIndices.Size(0);
        if (group is not null) totalMasked = AllSum(totalMasked, group, batch.Masks.Device);
        var doIbot = Settings.IbotWeight > 0 && totalMasked > 0;
        var weights = IbotPatchLoss.MaskWeights(batch.Masks, batch.GlobalCrops.DType);

        var (teacherDino, teacherIbot) = TeacherTargets(batch, maskIndices, teacherTemp, doIbot, totalMasked, group);

        var global = Student.Forward(batch.GlobalCrops, doIbot ? batch.Masks : null);
        var nTerms = (double)(Math.Max(nLocal * 2, 1) + 2);
        Tensor total;
        double dinoLocal = 0, koleo = 0, ibot = 0;
        var teacherCrops = teacherDino.Chunk(2);
        if (batch.LocalCrops is not null && nLocal > 0)
        {
            var local = Student.Forward(batch.LocalCrops);
            var localLoss = DinoLoss.Compute(Student.DinoHead.Forward(local.Cls).Chunk(nLocal), teacherCrops).Div(nTerms);
            dinoLocal = localLoss.ToDouble();
            total = localLoss.Mul(Settings.DinoWeight);
        }
        else total = Torch.Torch.Zeros([], global.Cls.DType, global.Cls.Device);
        var globalLoss = DinoLoss.Compute([Student.DinoHead.Forward(global.Cls)], [teacherDino]).Mul(2).Div(nTerms);
        total = total.Add(globalLoss.Mul(Settings.DinoWeight));
        if (Settings.KoLeoWeight > 0)
        {
            var chunks = global.Cls.Chunk(2);
            var k = KoLeoLoss.Compute(chunks[0]).Add(KoLeoLoss.Compute(chunks[1])).Mul(Settings.KoLeoWeight);
            koleo = k.ToDouble();
            total = total.Add(k);
        }
        if (doIbot)
        {
            var masked = global.Patches.Flatten(0, 1).IndexSelect(0, maskIndices);
            var studentPatches = Student.PatchHead.Forward(masked);
            var i = IbotLoss.ComputeMasked(studentPatches, teacherIbot!, batch.Masks, weights);
            ibot = i.ToDouble();
            total = total.Add(i.Mul(Settings.IbotWeight));
        }
        return new DinoV2Losses(scope.MoveOut(total), dinoLocal, globalLoss.ToDouble(), koleo, ibot);
    }

    private (Tensor Dino, Tensor? Ibot) TeacherTargets(DinoV2Batch batch, Tensor maskIndices, double temp, bool doIbot, double totalMasked, ProcessGroup? group)
    {
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = Scope.Enter();
        var t = Teacher.Forward(batch.GlobalCrops);
        var crops = t.Cls.Chunk(2);
        var cls = Teacher.DinoHead.Forward(Tensor.Cat([crops[1], crops[0]]));
        Tensor? patches = doIbot ? Teacher.PatchHead.Forward(t.Patches.Flatten(0, 1).IndexSelect(0, maskIndices)) : null;
        Tensor dino;
        Tensor? ibot = null;
        if (Settings.Centering == TeacherCentering.Centering)
        {
            dino = DinoLoss.SoftmaxCenterTeacher(cls, temp);
            DinoLoss.UpdateCenter(cls, group);
            if (patches is not null)
            {
                ibot = IbotLoss.SoftmaxCenterTeacher(patches, temp);
                // one process: the reference's mean over the masked patches; under a group the job's mean (the
                // reference averages the ranks' means, which weighs a rank's patches by 1/its count)
                if (group is null) IbotLoss.UpdateCenter(patches.Unsqueeze(0));
                else IbotLoss.Center.UpdateMean(patches.Sum(0L, keepDim: true), totalMasked, group);
            }
        }
        else
        {
            dino = DinoClsLoss.SinkhornKnoppTeacher(cls, temp, group: group);
            if (patches is not null)
                ibot = SinkhornKnopp.Assign(patches, temp, totalMasked, group: group);
        }
        return (scope.MoveOut(dino), ibot is null ? null : scope.MoveOut(ibot));
    }

    // on the batch's device: NCCL groups reduce device tensors only
    private static double AllSum(double value, ProcessGroup group, Device device)
    {
        using var count = Torch.Torch.Full([1], value, ScalarType.Float64, device);
        using (var work = group.AllReduce(count)) work.Wait();
        return count.ToDouble();
    }

    /// <summary>θ_t ← m·θ_t + (1 − m)·θ_s for every parameter (dinov2 <c>update_teacher</c>).</summary>
    public void UpdateTeacher(double momentum)
    {
        if (momentum is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "teacher momentum must lie in [0, 1]");
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = Scope.Enter();
        var student = Student.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var (name, t) in Teacher.NamedParameters())
            t.Mul_(momentum).Add_(student[name], 1 - momentum);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Student.Dispose();
        Teacher.Dispose();
        DinoLoss.Dispose();
        IbotLoss.Dispose();
    }
}
