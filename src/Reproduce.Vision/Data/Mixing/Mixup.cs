using Reproduce.Torch;

namespace Reproduce.Vision.Data.Mixing;

/// <summary>The outcome of one <see cref="Mixup"/> call.</summary>
/// <param name="Images">The mixed batch [B,C,H,W].</param>
/// <param name="Targets">Soft targets: λ·y + (1 − λ)·flip(y).</param>
/// <param name="Lambda">The weight of each sample's own label; for CutMix the area fraction it kept (after clipping).</param>
/// <param name="CutMix">True when CutMix was applied, false for Mixup or no mixing.</param>
/// <param name="Box">The pasted rows/columns [Y0,Y1) × [X0,X1) for CutMix.</param>
public sealed record MixResult(Tensor Images, Tensor Targets, double Lambda, bool CutMix, (int Y0, int Y1, int X0, int X1)? Box);

/// <summary>
/// timm's Mixup/CutMix in 'batch' mode (timm/data/mixup.py): one λ per batch; sample i is mixed with
/// sample B−1−i. With probability <see cref="Prob"/> the batch is mixed; when both are enabled CutMix
/// is chosen with probability <see cref="SwitchProb"/>. Mixup: x̃ = λx + (1 − λ)x_flip, λ ~ Beta(α_mix).
/// CutMix: λ ~ Beta(α_cut), a box of side fraction √(1 − λ) (or drawn from
/// <see cref="CutMixMinMax"/>) is pasted from the flipped batch and, with <see cref="CorrectLambda"/>
/// (always for min-max), λ becomes 1 − box area / image area after clipping, so the targets weigh each
/// image by the area actually pasted. Targets are smoothed one-hot rows (or given soft rows) mixed
/// with the same λ. Batches must have an even size.
/// </summary>
public sealed record Mixup(int NumClasses)
{
    /// <summary>Mixup α (0 disables Mixup; DeiT 0.8).</summary>
    public double MixupAlpha { get; init; } = 1.0;
    /// <summary>CutMix α (0 disables CutMix unless min-max is set; DeiT 1.0).</summary>
    public double CutMixAlpha { get; init; }
    /// <summary>CutMix side range as image fractions; when set CutMix is on with α forced to 1 (timm).</summary>
    public (double Min, double Max)? CutMixMinMax { get; init; }
    /// <summary>Probability of mixing a batch.</summary>
    public double Prob { get; init; } = 1.0;
    /// <summary>Probability of CutMix instead of Mixup when both are on.</summary>
    public double SwitchProb { get; init; } = 0.5;
    /// <summary>Correct λ to the clipped box area (timm correct_lam).</summary>
    public bool CorrectLambda { get; init; } = true;
    /// <summary>Label smoothing ε of the one-hot targets.</summary>
    public double LabelSmoothing { get; init; } = 0.1;

    private double CutAlpha => CutMixMinMax is not null ? 1.0 : CutMixAlpha;

    /// <summary>Draws (λ, use CutMix) for one batch (timm _params_per_batch).</summary>
    public (double Lambda, bool CutMix) SampleParams(Random rng)
    {
        if (!(rng.NextDouble() < Prob)) return (1.0, false);
        var mix = MixupAlpha > 0;
        var cut = CutAlpha > 0;
        if (mix && cut)
        {
            var useCut = rng.NextDouble() < SwitchProb;
            return (rng.Beta(useCut ? CutAlpha : MixupAlpha, useCut ? CutAlpha : MixupAlpha), useCut);
        }
        if (mix) return (rng.Beta(MixupAlpha, MixupAlpha), false);
        if (cut) return (rng.Beta(CutAlpha, CutAlpha), true);
        throw new InvalidOperationException("Mixup: one of MixupAlpha > 0, CutMixAlpha > 0 or CutMixMinMax must be set");
    }

    /// <summary>Mixes images [B,C,H,W] and int64 labels [B] (smoothed one-hot) or soft targets [B,…].</summary>
    public MixResult Apply(Tensor images, Tensor labels, Random rng)
    {
        if (images.Dim != 4) throw new ArgumentException($"Mixup: images must be [B,C,H,W], got {images.Describe()}");
        var b = images.Size(0);
        if (b % 2 != 0) throw new ArgumentException($"Mixup: batch size must be even, got {images.Describe()}");
        if (labels.Size(0) != b) throw new ArgumentException($"Mixup: {labels.Describe()} targets for {images.Describe()} images");
        using var s = Scope.Enter();
        var targets = labels.DType.IsFloatingPoint() ? labels : SoftTargets.OneHot(labels, NumClasses, LabelSmoothing);
        var (lam, useCut) = SampleParams(rng);
        Tensor mixed;
        (int, int, int, int)? box = null;
        if (lam >= 1.0)
        {
            mixed = images.Clone();
            useCut = false;
        }
        else if (useCut)
        {
            int h = (int)images.Size(2), w = (int)images.Size(3);
            var bb = CutMixMinMax is { } mm ? CutMixBox.MinMax(h, w, mm.Min, mm.Max, rng) : CutMixBox.Centered(h, w, lam, rng);
            if (CorrectLambda || CutMixMinMax is not null) lam = CutMixBox.CorrectedLambda(bb, h, w);
            mixed = Paste(images, bb);
            box = bb;
        }
        else
        {
            mixed = images.Mul(lam).Add(images.Flip(0).Mul(1.0 - lam)).To(images.DType);
        }
        var mixedTargets = SoftTargets.MixWithFlipped(targets, lam);
        return new MixResult(s.MoveOut(mixed), s.MoveOut(mixedTargets), lam, useCut, box);
    }

    /// <summary>A copy of <paramref name="images"/> whose box [Y0,Y1) × [X0,X1) comes from the flipped batch.</summary>
    public static Tensor Paste(Tensor images, (int Y0, int Y1, int X0, int X1) box)
    {
        var result = images.Clone();
        var (y0, y1, x0, x1) = box;
        if (y1 > y0 && x1 > x0)
        {
            using var s = Scope.Enter();
            var src = images.Flip(0).Narrow(2, y0, y1 - y0).Narrow(3, x0, x1 - x0);
            result.Narrow(2, y0, y1 - y0).Narrow(3, x0, x1 - x0).Copy_(src);
        }
        return result;
    }
}
