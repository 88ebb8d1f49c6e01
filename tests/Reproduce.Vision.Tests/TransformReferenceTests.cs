using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Vision.Tests;

/// <summary>Each transform against torchvision 0.14's tensor implementation (tests/fixtures/gen_transforms.py).</summary>
public sealed class TransformReferenceTests
{
    private static readonly double[] Fill = [124, 116, 104];

    public static TheoryData<string> Cases() => new(TransformFixture.Names);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchvision(string name)
    {
        using var scope = Scope.Enter();
        var c = TransformFixture.Case(name);
        var got = Run(c);
        Assert.Equal(c.Shape, got.Shape);
        Assert.Equal(c.DType, got.DType.Name());
        var values = got.To(ScalarType.Float64).Contiguous().ToArray<double>();
        var (tol, maxMismatches) = Tolerance(c);
        var worst = 0.0;
        var worstAt = -1;
        var mismatches = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var d = Math.Abs(values[i] - c.Data[i]);
            if (d > tol) mismatches++;
            if (d > worst) { worst = d; worstAt = i; }
        }
        Assert.True(mismatches <= maxMismatches,
            $"{name}: {mismatches} of {values.Length} values differ by more than {tol} (allowed {maxMismatches}); worst |Δ| = {worst} at {worstAt} (got {(worstAt >= 0 ? values[worstAt] : 0)}, torchvision {(worstAt >= 0 ? c.Data[worstAt] : 0)})");
    }

    /// <summary>
    /// Exact ops (and the nearest-neighbour warps, whose sample points here stay clear of pixel edges)
    /// must agree exactly; resampling and blending ops on uint8 may differ by one level (float rounding
    /// before truncation), on float images by float32 rounding.
    /// </summary>
    private static (double Tol, int MaxMismatches) Tolerance(TransformCase c) => c.Name switch
    {
        "hflip" or "crop" or "center_crop" or "center_crop_pad" or "invert" or "posterize" or "solarize" or "solarize_add"
            or "equalize" or "equalize_noise" or "autocontrast" or "grayscale3" or "resize_nearest_up" or "tokenlabel_sample"
            or "shear_y_nearest" or "rotate_nearest" or "translate_x_nearest" => (0, 0),
        _ when c.DType == "uint8" => (1, 0),
        _ => (2e-5, 0),
    };

    private static Tensor Run(TransformCase c)
    {
        var img = TransformFixture.Input();
        var f = img.To(ScalarType.Float32).Div(255.0);
        return c.Name switch
        {
            "hflip" => Geometry.HFlip(img),
            "crop" => Geometry.Crop(img, c.I("top"), c.I("left"), c.I("height"), c.I("width")),
            "resize_bilinear_aa_down" or "resize_bilinear_up" => Geometry.Resize(img, c.I("height"), c.I("width"), InterpolationMode.Bilinear),
            "resize_bicubic_aa_down" or "resize_bicubic_up" => Geometry.Resize(img, c.I("height"), c.I("width"), InterpolationMode.Bicubic),
            "resize_nearest_up" => Geometry.Resize(img, c.I("height"), c.I("width"), InterpolationMode.Nearest),
            "resize_bilinear_float" => Geometry.Resize(f, c.I("height"), c.I("width"), InterpolationMode.Bilinear),
            "resize_shorter" => Geometry.ResizeShorter(img, c.I("size")),
            "center_crop" or "center_crop_pad" => Geometry.CenterCrop(img, c.I("height"), c.I("width")),
            "eval_transform" => new EvalTransform(c.I("size")) { CropPct = c.P("crop_pct"), Interpolation = InterpolationMode.Bicubic }.Apply(img),
            "normalize" => Normalize.Apply(img),
            "shear_x_bilinear" => AffineWarp.Apply(img, AffineMatrix.ShearX(c.P("factor")), InterpolationMode.Bilinear, Fill),
            "shear_y_nearest" => AffineWarp.Apply(img, AffineMatrix.ShearY(c.P("factor")), InterpolationMode.Nearest, Fill),
            "translate_x_nearest" => AffineWarp.Apply(img, AffineMatrix.Translate(c.P("dx"), c.P("dy")), InterpolationMode.Nearest, Fill),
            "translate_y_bilinear" => AffineWarp.Apply(img, AffineMatrix.Translate(c.P("dx"), c.P("dy")), InterpolationMode.Bilinear, Fill),
            "rotate_bilinear" => AffineWarp.Apply(img, AffineMatrix.Rotate(c.P("degrees"), 16, 12), InterpolationMode.Bilinear, Fill),
            "rotate_nearest" => AffineWarp.Apply(img, AffineMatrix.Rotate(c.P("degrees"), 16, 12), InterpolationMode.Nearest, Fill),
            "rotate_float_zero_fill" => AffineWarp.Apply(f, AffineMatrix.Rotate(c.P("degrees"), 16, 12), InterpolationMode.Bilinear, [0.0]),
            "brightness" => ColorOps.Brightness(img, c.P("factor")),
            "contrast" => ColorOps.Contrast(img, c.P("factor")),
            "contrast_float" => ColorOps.Contrast(f, c.P("factor")),
            "saturation" => ColorOps.Saturation(img, c.P("factor")),
            "hue" => ColorOps.Hue(img, c.P("factor")),
            "hue_negative_float" => ColorOps.Hue(f, c.P("factor")),
            "sharpness_up" or "sharpness_down" => Filters.Sharpness(img, c.P("factor")),
            "autocontrast" => PixelOps.AutoContrast(TransformFixture.Input("low")),
            "equalize" => PixelOps.Equalize(TransformFixture.Input("low")),
            "equalize_noise" => PixelOps.Equalize(img),
            "invert" => ColorOps.Invert(img),
            "posterize" => PixelOps.Posterize(img, c.I("bits")),
            "solarize" => PixelOps.Solarize(img, c.P("threshold")),
            "grayscale3" => ColorOps.Grayscale(img, 3),
            "gaussian_blur" => Filters.GaussianBlur(img, c.I("kernel"), c.P("sigma")),
            "solarize_add" => PixelOps.SolarizeAdd(img, c.P("add"), c.P("threshold")),
            var n when n.StartsWith("roi_", StringComparison.Ordinal) => RoiAlign(c),
            "tokenlabel_sample" => OfficialLabelFile(),
            _ => throw new InvalidOperationException($"no C# counterpart for fixture case '{c.Name}'"),
        };
    }

    private static Tensor RoiAlign(TransformCase c)
    {
        var b = c.Box;
        return TokenLabelAligner.RoiAlign(TransformFixture.Input("roi_input"), b[0], b[1], b[2], b[3], c.I("size"), c.I("size"));
    }

    /// <summary>The fixture's torch.save file read through the native unpickler: [2,5,H,W] as float.</summary>
    private static Tensor OfficialLabelFile()
    {
        var map = OfficialTokenLabels.Parse(Reproduce.Torch.IO.TorchPickle.LoadTensors(TransformFixture.TokenLabelFile), TransformFixture.TokenLabelFile);
        return Tensor.Stack([map.Values, map.Indices.To(ScalarType.Float32)], 0);
    }
}
