using System.Globalization;
using Reproduce.Bench;
using Reproduce.Torch;

namespace Reproduce.GpuKit;

/// <summary>
/// Autograd and the optimizer end to end, and the bf16 autocast step: a small ViT (the bench's <c>vit192</c>) trained
/// a few AdamW steps from PyTorch's initial weights and batch on the same device (<see cref="Verify"/>), every loss and
/// final parameter compared. float32: losses within 1e-4 (relative to max(1, |loss|)) and parameters within 1e-5 on the
/// CPU, 1e-3 on a GPU (its reductions need not run in the same order). bf16 autocast: losses within 1e-3 on the CPU
/// (AutocastTrainingTests' bound) and within bf16's epsilon 2⁻⁷ on a GPU; the parameters are reported, not bounded,
/// since AdamW moves each by about lr per step whatever the gradient's size.
/// </summary>
internal static class TrainingParity
{
    public static void Run(KitReport report, KitOptions opt, string script, Device device, bool bf16)
    {
        var bm = BenchModel.Get("vit192").Resized(null, opt.Batch ?? (opt.Cpu ? 16 : 128));
        var v = Verify.Run(opt.Python, script, bm, Environment.ProcessorCount, opt.ParitySteps, 0, device, bf16);
        var scale = Math.Max(1, v.PyLosses.Max(Math.Abs));
        var lossTol = (bf16 ? device.IsCuda ? 1.0 / 128 : 1e-3 : 1e-4) * scale;
        var paramTol = bf16 ? double.PositiveInfinity : device.IsCuda ? 1e-3 : 1e-5;
        var passed = v.MaxLossDiff <= lossTol && v.MaxParamDiff <= paramTol;
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"{v.CsLosses.Length} AdamW steps, batch {bm.Batch}: losses C#/PyTorch [{string.Join(", ", v.CsLosses.Zip(v.PyLosses, (a, b) => $"{a:F5}/{b:F5}"))}], loss tol {lossTol:G2}; params max |d| {v.MaxParamDiff:G3}{(bf16 ? " (reported)" : $" (tol {paramTol:G2})")}, {v.Differing} of {v.Tensors} tensors not bit-identical");
        report.Add(new Check(bf16 ? "bf16" : "parity", $"{(bf16 ? "bf16 autocast" : "fp32")} ViT training steps (vs PyTorch on {device})", passed, v.MaxLossDiff, detail));
    }
}
