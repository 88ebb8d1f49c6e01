using Reproduce.Torch;

namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// mmsegmentation's PhotoMetricDistortion (mmseg/datasets/pipelines/transforms.py) on a uint8 RGB
/// image. Each step runs with probability 1/2: brightness v + δ (δ ~ U(−32, 32)); contrast v·α
/// (α ~ U(0.5, 1.5)), before or after the colour steps with equal probability; saturation S·α in HSV;
/// hue H + d (d uniform integer in [−18, 18] on OpenCV's 0–180 scale). Values are clipped to 0–255 and
/// truncated to uint8 after each step, as mmcv's convert does. HSV uses the float formulas of
/// <see cref="ColorOps.Hue"/>, not OpenCV's uint8 HSV, so results differ from mmseg by rounding.
/// </summary>
public sealed record PhotoMetricDistortion
{
    /// <summary>Maximum brightness offset (0–255 scale).</summary>
    public double BrightnessDelta { get; init; } = 32;
    /// <summary>Contrast factor range.</summary>
    public (double Min, double Max) ContrastRange { get; init; } = (0.5, 1.5);
    /// <summary>Saturation factor range.</summary>
    public (double Min, double Max) SaturationRange { get; init; } = (0.5, 1.5);
    /// <summary>Maximum hue shift on the 0–180 scale.</summary>
    public int HueDelta { get; init; } = 18;

    /// <summary>The distorted uint8 image.</summary>
    public Tensor Apply(Tensor image, Random rng)
    {
        if (image.DType != ScalarType.UInt8 || ColorOps.Channels(image, "PhotoMetricDistortion") != 3)
            throw new ArgumentException($"PhotoMetricDistortion: expected a uint8 RGB image [3,H,W], got {image.Describe()}");
        if (HueDelta is < 0 or > 90) throw new ArgumentOutOfRangeException(nameof(HueDelta), $"PhotoMetricDistortion: hue delta {HueDelta} is outside 0..90");
        using var s = Scope.Enter();
        var img = image;
        if (rng.Next(2) == 1) img = Convert(img, 1.0, rng.Uniform(-BrightnessDelta, BrightnessDelta));
        var contrastFirst = rng.Next(2) == 1;
        if (contrastFirst && rng.Next(2) == 1) img = Convert(img, rng.Uniform(ContrastRange.Min, ContrastRange.Max), 0);
        if (rng.Next(2) == 1) img = ScaleSaturation(img, rng.Uniform(SaturationRange.Min, SaturationRange.Max));
        if (rng.Next(2) == 1) img = ColorOps.Hue(img, rng.RandInt(-HueDelta, HueDelta) / 180.0);
        if (!contrastFirst && rng.Next(2) == 1) img = Convert(img, rng.Uniform(ContrastRange.Min, ContrastRange.Max), 0);
        return s.MoveOut(ReferenceEquals(img, image) ? image.Clone() : img);
    }

    /// <summary>mmcv-style convert: clip(v·α + β, 0, 255), truncated to uint8.</summary>
    private static Tensor Convert(Tensor img, double alpha, double beta) =>
        img.To(ScalarType.Float32).Mul(alpha).Add(beta).Clamp(0, 255).To(ScalarType.UInt8);

    private static Tensor ScaleSaturation(Tensor img, double alpha)
    {
        var hsv = Hsv.FromRgb(img.To(ScalarType.Float32).Div(255.0)).Unbind(0);
        var rgb = Hsv.ToRgb(Tensor.Stack([hsv[0], hsv[1].Mul(alpha).Clamp(0, 1), hsv[2]], 0));
        return rgb.Mul(255.0).Clamp(0, 255).To(ScalarType.UInt8);
    }
}
