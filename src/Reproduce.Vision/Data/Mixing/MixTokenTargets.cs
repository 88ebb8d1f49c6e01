using Reproduce.Torch;
using Reproduce.Vision.Tokens;

namespace Reproduce.Vision.Data.Mixing;

/// <summary>
/// The label side of MixToken (docs/papers/token-labeling.md §1.6; TL-lvvit, TL-loss). The model pastes the tokens inside
/// a <see cref="MixTokenBox"/> (sampled by the model's <c>MixToken</c> layer) from sample B−1−i into sample i after patch embedding. Then:
/// <list type="bullet">
/// <item>the class-token target is mixed by area: λ·yᵢ + (1 − λ)·y_{B−1−i}, λ = 1 − |box|/N;</item>
/// <item>each patch token keeps the target of the image it came from: inside the box sample i's
/// token targets are those of sample B−1−i (equivalent to TokenLabeling swapping the aux logits back).</item>
/// </list>
/// </summary>
public static class MixTokenTargets
{
    /// <summary>The class-token targets [B,C] mixed by area.</summary>
    public static Tensor MixClass(Tensor clsTargets, MixTokenBox box)
    {
        if (clsTargets.Dim != 2) throw new ArgumentException($"MixTokenTargets.MixClass: targets must be [B,C], got {clsTargets.Describe()}");
        return SoftTargets.MixWithFlipped(clsTargets, ValidBox(box).ClassTargetWeight);
    }

    /// <summary>Token targets [B,N,C] (N = GridH·GridW, row-major) with the box's rows taken from the flipped batch.</summary>
    public static Tensor MixDense(Tensor tokenTargets, MixTokenBox box)
    {
        ValidBox(box);
        if (tokenTargets.Dim != 3 || tokenTargets.Size(1) != box.NumTokens)
            throw new ArgumentException($"MixTokenTargets.MixDense: targets must be [B,{box.NumTokens},C] for a {box.GridHeight}×{box.GridWidth} grid, got {tokenTargets.Describe()}");
        using var s = Scope.Enter();
        var mask = Mask(box).To(tokenTargets.Device).View(1, box.NumTokens, 1);
        return s.MoveOut(Tensor.Where(mask, tokenTargets.Flip(0), tokenTargets));
    }

    /// <summary>
    /// Targets laid out as <see cref="TokenLabels.TokenLabelAligner"/> returns them, [B, 1+N, C]:
    /// row 0 (class token) mixed by area, rows 1… swapped inside the box.
    /// </summary>
    public static Tensor Mix(Tensor targets, MixTokenBox box)
    {
        ValidBox(box);
        if (targets.Dim != 3 || targets.Size(1) != box.NumTokens + 1)
            throw new ArgumentException($"MixTokenTargets.Mix: targets must be [B,{box.NumTokens + 1},C] (class token + {box.GridHeight}×{box.GridWidth} tokens), got {targets.Describe()}");
        using var s = Scope.Enter();
        var cls = MixClass(targets.Select(1, 0), box).Unsqueeze(1);
        var dense = MixDense(targets.Narrow(1, 1, box.NumTokens), box);
        return s.MoveOut(Tensor.Cat([cls, dense], 1));
    }

    /// <summary>Boolean [N]: true for the tokens inside the box (row-major).</summary>
    public static Tensor Mask(MixTokenBox box)
    {
        var m = new bool[box.NumTokens];
        for (var r = box.Top; r < box.Bottom; r++)
            for (var c = box.Left; c < box.Right; c++)
                m[r * box.GridWidth + c] = true;
        return Tensor.From(m);
    }

    private static MixTokenBox ValidBox(MixTokenBox box)
    {
        box.Validate();
        return box;
    }
}
