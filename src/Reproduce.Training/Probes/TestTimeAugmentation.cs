using Reproduce.Torch;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Training.Probes;

/// <summary>
/// mmseg 0.x's multi-scale + flip test (<c>MultiScaleFlipAug</c> with <c>img_ratios</c> and <c>flip</c>, then
/// <c>EncoderDecoder.aug_test</c>; docs/protocols/dense-probes.md §5.4): for every ratio r and flip f the image is
/// rescaled keeping its aspect ratio, flipped if f, run through the single-scale inference (slide or whole), and the
/// logits resized bilinearly to the label's size, soft-maxed and flipped back; the prediction is
/// <code>
/// P = (1 / (|R|·|F|)) Σ_{r∈R} Σ_{f∈F} unflip_f(softmax(resize_{H×W}(logits(flip_f(rescale_r(image))))))
/// </code>
/// and the class the argmax of P. Averaging probabilities, not logits, is mmseg's choice (slide inference averages
/// logits inside one augmentation).
/// </summary>
/// <param name="Ratios">The ratios r (mmseg <c>img_ratios</c>); [1] = single scale.</param>
/// <param name="Flip">Also run every ratio horizontally flipped (mmseg <c>flip=True</c>).</param>
/// <param name="Scale">
/// The base scale (long, short) the ratios multiply (mmseg's test <c>img_scale</c>, ADE20K (2048, 512);
/// <c>probe.test_scale</c>); null = the image's own size (max(H, W), min(H, W)). One pass at ratio 1 with a scale is
/// mmseg's single-scale test: the image rescaled keeping its aspect ratio to fit the scale.
/// </param>
public sealed record TestTimeAugmentation(IReadOnlyList<double> Ratios, bool Flip, (int Long, int Short)? Scale = null)
{
    /// <summary>Number of augmented passes, |R|·|F|.</summary>
    public int Count => Ratios.Count * (Flip ? 2 : 1);

    /// <summary>Whether this is one pass at ratio 1 without flip at the image's own size (the plain single-scale evaluation).</summary>
    public bool IsSingle => Count == 1 && Ratios[0] == 1.0 && Scale is null;

    /// <summary>
    /// The size an H×W image is rescaled to at ratio <paramref name="ratio"/> over the base scale (long, short) =
    /// <paramref name="scale"/> (mmseg's <c>img_scale</c>), else (max(H, W), min(H, W)), the image's own size:
    /// mmseg's <c>MultiScaleFlipAug</c> scales the base to (⌊long·r⌋, ⌊short·r⌋) (Python <c>int</c>), then
    /// <c>Resize(keep_ratio=True)</c> → mmcv <c>imrescale</c>: factor = min(L / max(H, W), S / min(H, W)) with L, S the
    /// larger and smaller of that scale, size = ⌊H·factor + 0.5⌋ × ⌊W·factor + 0.5⌋
    /// (<see cref="DenseTrainTransform.RescaleSize"/>). Ratio 1 without a scale keeps the size.
    /// </summary>
    public static (int H, int W) ScaledSize(int height, int width, double ratio, (int Long, int Short)? scale = null)
    {
        if (height < 1 || width < 1) throw new ArgumentException($"test-time augmentation: image {height}×{width} is empty");
        if (!(ratio > 0) || !double.IsFinite(ratio)) throw new ArgumentException($"test-time augmentation: ratio {ratio} must be positive (probe.test_scales)");
        if (scale is { } b && (b.Long < 1 || b.Short < 1)) throw new ArgumentException($"test-time augmentation: scale ({b.Long}, {b.Short}) must be positive (probe.test_scale)");
        var (baseLong, baseShort) = scale ?? (Math.Max(height, width), Math.Min(height, width));
        double longEdge = Math.Floor(baseLong * ratio), shortEdge = Math.Floor(baseShort * ratio);
        if (Math.Min(longEdge, shortEdge) < 1) throw new ArgumentException($"test-time augmentation: ratio {ratio} shrinks a {height}×{width} image to nothing (probe.test_scales)");
        if (Math.Max(longEdge, shortEdge) > int.MaxValue) throw new ArgumentException($"test-time augmentation: ratio {ratio} of scale ({baseLong}, {baseShort}) overflows (probe.test_scale)");
        return DenseTrainTransform.RescaleSize(height, width, (int)longEdge, (int)shortEdge);
    }

    /// <summary>
    /// The averaged class probabilities [1, K, h, w] (the label's size) of one uint8 image
    /// [3, H, W]. <paramref name="logits"/> maps a normalised [1, 3, H', W'] image on the CPU (the rescaled, possibly
    /// flipped image) to the logits [1, K, h, w] at the label's size: the single-scale inference.
    /// <paramref name="rescale"/> says whether the ratios rescale the image here (slide mode, where the inference runs on
    /// the image at the size it gets); in whole mode the inference resizes the image to the backbone's square input
    /// itself, so only ratio 1 is accepted.
    /// </summary>
    public Tensor Probabilities(Tensor image, bool rescale, Func<Tensor, Tensor> logits)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(logits);
        if (image.Dim != 3) throw new ArgumentException($"test-time augmentation: expected a uint8 image [3, H, W], got {image.Describe()}");
        using var s = Scope.Enter();
        int height = (int)image.Size(1), width = (int)image.Size(2);
        Tensor? sum = null;
        foreach (var ratio in Ratios)
        {
            using var rs = Scope.Enter(); // one ratio's rescaled image freed before the next
            var first = sum is null;
            var (nh, nw) = ScaledSize(height, width, ratio, Scale);
            if (!rescale && (nh != height || nw != width || Scale is not null))
                throw new ArgumentException($"test-time augmentation: ratio {ratio}{(Scale is { } b ? $" of scale ({b.Long}, {b.Short})" : "")} needs probe.slide=true (whole mode feeds the fixed-size backbone its square input; probe.test_scales, probe.test_scale)");
            // mmcv rescales the uint8 image (cv2 bilinear, no antialiasing) before normalising.
            var scaled = nh == height && nw == width ? image : Geometry.Resize(image, nh, nw, InterpolationMode.Bilinear, antialias: false);
            var x = ProbeInputs.FullImage(scaled);
            foreach (var flip in Flip ? new[] { false, true } : [false])
            {
                using var ps = Scope.Enter(); // one augmentation's tensors freed before the next
                var p = F.Softmax(logits(flip ? x.Flip(3) : x), 1);
                if (flip) p = p.Flip(3);
                if (sum is null) sum = ps.MoveOut(p.Contiguous());
                else sum.Add_(p);
            }
            if (first) rs.MoveOut(sum!);
        }
        return s.MoveOut(sum!.Div_(Count));
    }
}
