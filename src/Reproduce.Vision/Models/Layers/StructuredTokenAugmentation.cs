using Reproduce.Torch;
using Reproduce.Torch.Nn;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// Structured Token Augmentation (STA, arXiv 2509.19687, docs/papers/sta-anf.md §2.1), applied to the patch tokens right
/// after patch embedding (before the class token and position embeddings):
/// <c>x̃ᵢ = xᵢ + α · M(xᵢ) · εᵢ</c>, <c>M(xᵢ) = 1[Var(xᵢ) &lt; τ]</c>, <c>εᵢ ~ N(0, σ²)</c>.
/// Active in training mode only (unless <see cref="StructuredTokenAugmentationConfig.ApplyInEval"/>); it has no
/// parameters, so it adds no state-dict keys. The mask is not differentiated (it is a comparison).
/// </summary>
public sealed class StructuredTokenAugmentation : Module
{
    private readonly Conv2d? _projection;

    /// <summary>τ, α, σ and the variance / noise choices.</summary>
    public StructuredTokenAugmentationConfig Config { get; }
    /// <summary>Patch side p in pixels (for the pixel-variance domain and pixel noise).</summary>
    public int PatchSize { get; }
    /// <summary>Generator for ε; null draws from the default generator.</summary>
    public Generator? Generator { get; set; }

    /// <summary>
    /// Creates the augmentation for patches of <paramref name="patchSize"/> pixels; <paramref name="projection"/> is the
    /// model's patch-embedding convolution, needed only for <see cref="StaNoiseSpace.Pixel"/>.
    /// </summary>
    public StructuredTokenAugmentation(StructuredTokenAugmentationConfig config, int patchSize, Conv2d? projection = null)
    {
        config.Validate();
        if (config.NoiseSpace == StaNoiseSpace.Pixel && projection is null)
            throw new ArgumentException("StructuredTokenAugmentation: pixel-space noise needs the model's convolutional patch embedding");
        (Config, PatchSize, _projection) = (config, patchSize, projection);
    }

    /// <summary>True when <see cref="Apply"/> changes anything in the current mode.</summary>
    public bool Active => (Training || Config.ApplyInEval) && Config.Alpha * Config.Sigma > 0;

    /// <summary>
    /// The binary mask M [B, N] (1 = low variance, gets noise) of the tokens of <paramref name="images"/> [B, C, H, W]
    /// whose patch tokens are <paramref name="tokens"/> [B, N, D].
    /// </summary>
    public Tensor Mask(Tensor images, Tensor tokens)
    {
        using var s = Scope.Enter();
        var variance = Config.VarianceDomain == StaVarianceDomain.PatchPixels
            ? PatchPixelVariance(images, PatchSize)
            : tokens.Detach().Var([-1], unbiased: false);
        if (!variance.Shape.SequenceEqual(tokens.Shape[..2]))
            throw new ArgumentException($"StructuredTokenAugmentation: {variance.Describe()} patch variances for tokens {tokens.Describe()}");
        return s.MoveOut(variance.Lt(Config.Tau).To(tokens.DType));
    }

    /// <summary>
    /// Patch tokens [B, N, D] → x̃ = x + α·M·ε in training (see the class summary); in eval (and when α·σ = 0)
    /// returns <paramref name="tokens"/> itself.
    /// </summary>
    public Tensor Apply(Tensor images, Tensor tokens)
    {
        if (!Active) return tokens;
        using var s = Scope.Enter();
        var mask = Mask(images, tokens).Unsqueeze(-1); // [B, N, 1]
        Tensor noise;
        if (Config.NoiseSpace == StaNoiseSpace.Token)
            noise = Torch.Torch.Randn(tokens.Shape, Generator, tokens.DType, tokens.Device).Mul(Config.Alpha * Config.Sigma).Mul(mask);
        else
        {
            var shape = images.Shape;
            long b = shape[0], h = shape[2] / PatchSize, w = shape[3] / PatchSize;
            // The mask spread over each patch's pixels: [B, N, 1] → [B, 1, h, p, w, p] → [B, 1, H, W].
            var pixelMask = mask.Reshape(b, 1, h, 1, w, 1).Expand(b, 1, h, PatchSize, w, PatchSize).Reshape(b, 1, h * PatchSize, w * PatchSize);
            var pixelNoise = Torch.Torch.Randn(shape, Generator, images.DType, images.Device).Mul(Config.Alpha * Config.Sigma).Mul(pixelMask);
            noise = F.Conv2d(pixelNoise, _projection!.Weight, null, [PatchSize, PatchSize]).Flatten(2).Transpose(1, 2);
        }
        return s.MoveOut(tokens.Add(noise));
    }

    /// <summary>Population variance of each p×p patch's C·p·p pixels: images [B, C, H, W] → [B, (H/p)·(W/p)], patches row-major.</summary>
    public static Tensor PatchPixelVariance(Tensor images, int patchSize)
    {
        var shape = images.Shape;
        if (shape.Length != 4 || shape[2] % patchSize != 0 || shape[3] % patchSize != 0)
            throw new ArgumentException($"StructuredTokenAugmentation: images must be [B,C,H,W] with H and W multiples of {patchSize}, got {images.Describe()}");
        long b = shape[0], c = shape[1], h = shape[2] / patchSize, w = shape[3] / patchSize;
        using var s = Scope.Enter();
        var patches = images.Detach().Reshape(b, c, h, patchSize, w, patchSize).Permute(0, 2, 4, 1, 3, 5).Reshape(b, h * w, c * patchSize * patchSize);
        return s.MoveOut(patches.Var([-1], unbiased: false));
    }
}
