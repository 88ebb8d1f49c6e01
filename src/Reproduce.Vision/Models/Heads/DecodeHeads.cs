using Reproduce.Torch;

namespace Reproduce.Vision.Models.Heads;

/// <summary>Operations shared by the dense heads (mmseg's <c>BaseDecodeHead</c> conventions).</summary>
public static class DecodeHeads
{
    /// <summary>
    /// Channel dropout (mmseg's <c>Dropout2d</c> before <c>conv_seg</c>): whole channels of [B, C, H, W] are zeroed with
    /// probability <paramref name="p"/> in training and the rest scaled by 1/(1−p); identity in eval or for p = 0.
    /// </summary>
    public static Tensor Dropout2d(Tensor x, double p, bool training) =>
        training && p > 0 ? Op.Get("aten::feature_dropout").Invoke(x, p, true) : x;

    /// <summary>Bilinear resize of [B, C, h, w] maps to <paramref name="height"/>×<paramref name="width"/> (align_corners = false, as mmseg's <c>resize</c>).</summary>
    public static Tensor Resize(Tensor x, long height, long width) =>
        F.Interpolate(x, size: [height, width], mode: InterpolationMode.Bilinear, alignCorners: false);

    /// <summary>
    /// mmseg's <c>resize_concat</c> input transform: every map resized (bilinear) to <paramref name="height"/>×<paramref name="width"/>
    /// and concatenated along channels. Maps already at that size are used as they are.
    /// </summary>
    public static Tensor ResizeConcat(IReadOnlyList<Tensor> maps, long height, long width)
    {
        if (maps.Count == 0) throw new ArgumentException("DecodeHeads.ResizeConcat: no feature maps");
        using var s = Scope.Enter();
        var resized = maps.Select(m =>
        {
            var shape = m.Shape;
            if (shape.Length != 4) throw new ArgumentException($"DecodeHeads.ResizeConcat: expected maps [B, C, h, w], got {m.Describe()}");
            return shape[2] == height && shape[3] == width ? m : Resize(m, height, width);
        }).ToArray();
        return s.MoveOut(resized.Length == 1 ? resized[0].Alias() : Tensor.Cat(resized, 1));
    }
}
