using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// RGB ↔ HSV on float [3,H,W] tensors in 0–1, all components in 0–1 (hue in turns), following the
/// formulas of PIL's Convert.c as torchvision's tensor ops restate them.
/// </summary>
internal static class Hsv
{
    /// <summary>RGB → HSV. Where max = min the saturation and hue are 0.</summary>
    public static Tensor FromRgb(Tensor rgb)
    {
        using var s = Scope.Enter();
        var c = rgb.Unbind(0);
        Tensor r = c[0], g = c[1], b = c[2];
        var maxc = rgb.Amax([0]);
        var minc = rgb.Amin([0]);
        var eq = maxc.Eq(minc);
        var cr = maxc.Sub(minc);
        var ones = Torch.Torch.OnesLike(maxc);
        var sat = cr.Div(Tensor.Where(eq, ones, maxc));
        var crDiv = Tensor.Where(eq, ones, cr);
        var rc = maxc.Sub(r).Div(crDiv);
        var gc = maxc.Sub(g).Div(crDiv);
        var bc = maxc.Sub(b).Div(crDiv);
        var isR = maxc.Eq(r);
        var isG = maxc.Eq(g).LogicalAnd(isR.LogicalNot());
        var isB = maxc.Ne(g).LogicalAnd(isR.LogicalNot());
        var hr = isR.To(rgb.DType).Mul(bc.Sub(gc));
        var hg = isG.To(rgb.DType).Mul(rc.Sub(bc).Add(2.0));
        var hb = isB.To(rgb.DType).Mul(gc.Sub(rc).Add(4.0));
        var h = hr.Add(hg).Add(hb).Div(6.0).Add(1.0);
        h = Op.Get("aten::fmod.Scalar").Invoke(h, 1.0);
        return s.MoveOut(Tensor.Stack([h, sat, maxc], 0));
    }

    /// <summary>HSV → RGB by the six-sector formula.</summary>
    public static Tensor ToRgb(Tensor hsv)
    {
        using var s = Scope.Enter();
        var c = hsv.Unbind(0);
        Tensor h = c[0], sat = c[1], v = c[2];
        var i = h.Mul(6.0).Floor();
        var f = h.Mul(6.0).Sub(i);
        var sector = i.To(ScalarType.Int32).Remainder(6.0).To(ScalarType.Int64);
        var p = v.Mul(sat.Neg().Add(1.0)).Clamp(0.0, 1.0);
        var q = v.Mul(sat.Mul(f).Neg().Add(1.0)).Clamp(0.0, 1.0);
        var t = v.Mul(sat.Mul(f.Neg().Add(1.0)).Neg().Add(1.0)).Clamp(0.0, 1.0);
        var mask = sector.Unsqueeze(0).Eq(Torch.Torch.Arange(6).View(-1, 1, 1)).To(hsv.DType);
        var a1 = Tensor.Stack([v, q, p, p, t, v], 0);
        var a2 = Tensor.Stack([t, v, v, q, p, p], 0);
        var a3 = Tensor.Stack([p, p, t, v, v, q], 0);
        var a4 = Tensor.Stack([a1, a2, a3], 0);
        return s.MoveOut(F.Einsum("ijk,xijk->xjk", mask, a4));
    }
}
