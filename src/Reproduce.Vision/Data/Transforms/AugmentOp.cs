namespace Reproduce.Vision.Data.Transforms;

/// <summary>
/// The ops of timm's RandAugment (timm/data/auto_augment.py, _RAND_TRANSFORMS and
/// _RAND_INCREASING_TRANSFORMS). Cutout is not among them (timm applies random erasing separately).
/// </summary>
public enum AugmentOp
{
    /// <summary>Per-channel contrast stretch.</summary>
    AutoContrast,
    /// <summary>Histogram equalisation.</summary>
    Equalize,
    /// <summary>255 − v.</summary>
    Invert,
    /// <summary>Rotation by ±30°·m/10 about the centre (spatial).</summary>
    Rotate,
    /// <summary>Keep ⌊4·m/10⌋ bits.</summary>
    Posterize,
    /// <summary>Keep 4 − ⌊4·m/10⌋ bits (severity increases with m).</summary>
    PosterizeIncreasing,
    /// <summary>Invert values ≥ ⌊256·m/10⌋.</summary>
    Solarize,
    /// <summary>Invert values ≥ 256 − ⌊256·m/10⌋.</summary>
    SolarizeIncreasing,
    /// <summary>Add ⌊110·m/10⌋ to values below 128.</summary>
    SolarizeAdd,
    /// <summary>Saturation factor 0.1 + 1.8·m/10.</summary>
    Color,
    /// <summary>Saturation factor 1 ± 0.9·m/10.</summary>
    ColorIncreasing,
    /// <summary>Contrast factor 0.1 + 1.8·m/10.</summary>
    Contrast,
    /// <summary>Contrast factor 1 ± 0.9·m/10.</summary>
    ContrastIncreasing,
    /// <summary>Brightness factor 0.1 + 1.8·m/10.</summary>
    Brightness,
    /// <summary>Brightness factor 1 ± 0.9·m/10.</summary>
    BrightnessIncreasing,
    /// <summary>Sharpness factor 0.1 + 1.8·m/10.</summary>
    Sharpness,
    /// <summary>Sharpness factor 1 ± 0.9·m/10.</summary>
    SharpnessIncreasing,
    /// <summary>x_in = x ± 0.3·m/10·y (spatial).</summary>
    ShearX,
    /// <summary>y_in = y ± 0.3·m/10·x (spatial).</summary>
    ShearY,
    /// <summary>Translation by ±0.45·m/10 of the width (spatial).</summary>
    TranslateXRel,
    /// <summary>Translation by ±0.45·m/10 of the height (spatial).</summary>
    TranslateYRel,
}
