namespace Reproduce.Vision.Models;

/// <summary>What Var(xᵢ) in STA's mask is taken over (docs/papers/sta-anf.md §2.5 <c>sta_var_domain</c>: ambiguous in the paper).</summary>
public enum StaVarianceDomain
{
    /// <summary>Default: the population variance of the patch's pixels (all C·p·p values of the model's input image, i.e. after its normalisation), before embedding.</summary>
    PatchPixels,
    /// <summary>The population variance of the token's D channels after patch embedding (before position embeddings).</summary>
    TokenChannels,
}

/// <summary>Where STA's noise ε lives (docs/papers/sta-anf.md §2.5 <c>sta_noise_shape</c>: not stated).</summary>
public enum StaNoiseSpace
{
    /// <summary>Default: ε ~ N(0, σ²) per token channel, added to the patch token (x̃ᵢ = xᵢ + α·M·εᵢ with xᵢ the token).</summary>
    Token,
    /// <summary>ε ~ N(0, σ²) per pixel, added to the patch's pixels before the (linear) patch embedding, i.e. the token
    /// receives the embedding's projection of α·ε without its bias. Needs a plain convolutional patch embedding.</summary>
    Pixel,
}

/// <summary>
/// Structured Token Augmentation (STA, arXiv 2509.19687, docs/papers/sta-anf.md §2.1): at tokenization, in training,
/// x̃ᵢ = xᵢ + α · M(xᵢ) · εᵢ with M(xᵢ) = 1[Var(xᵢ) &lt; τ] and εᵢ ~ N(0, σ²): low-variance (background) patches
/// get Gaussian noise, the others are untouched. The paper gives the symbols only (τ and α "hand-tuned");
/// every value below is our choice, documented and logged with each result. Only α·σ matters for the noise
/// (α·N(0, σ²) = N(0, (ασ)²)); both are kept to follow the paper's notation.
/// </summary>
public sealed record StructuredTokenAugmentationConfig
{
    /// <summary>
    /// Variance threshold τ (<c>sta_tau</c>), in the units of <see cref="VarianceDomain"/>. Default 0.01 for
    /// ImageNet-normalised pixels (per-channel unit variance over the data set): a patch counts as background when
    /// its pixel standard deviation is below 0.1 normalised units, about 6/255 in raw intensity. Not from the paper.
    /// </summary>
    public double Tau { get; init; } = 0.01;
    /// <summary>Noise strength α (<c>sta_alpha</c>). Default 1 (σ sets the scale). Not from the paper.</summary>
    public double Alpha { get; init; } = 1.0;
    /// <summary>
    /// Standard deviation σ of ε (<c>sta_sigma</c>). Default 0.1: a ViT-B patch embedding at init gives tokens with a
    /// per-channel standard deviation of about 0.6 on normalised images, so the noise is about a sixth of that. Not from the paper.
    /// </summary>
    public double Sigma { get; init; } = 0.1;
    /// <summary>What the variance is taken over (<c>sta_var_domain</c>).</summary>
    public StaVarianceDomain VarianceDomain { get; init; } = StaVarianceDomain.PatchPixels;
    /// <summary>Where the noise is drawn (<c>sta_noise_shape</c>).</summary>
    public StaNoiseSpace NoiseSpace { get; init; } = StaNoiseSpace.Token;
    /// <summary>Also augment in eval mode (<c>sta_at_eval</c>); default off: STA is a training-time augmentation.</summary>
    public bool ApplyInEval { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException("StructuredTokenAugmentationConfig: " + message);
        }
        Require(Tau >= 0 && double.IsFinite(Tau), $"threshold tau {Tau} must be finite and non-negative");
        Require(Alpha >= 0 && double.IsFinite(Alpha), $"alpha {Alpha} must be finite and non-negative");
        Require(Sigma >= 0 && double.IsFinite(Sigma), $"sigma {Sigma} must be finite and non-negative");
        Require(Enum.IsDefined(VarianceDomain) && Enum.IsDefined(NoiseSpace), $"unknown variance domain {VarianceDomain} or noise space {NoiseSpace}");
    }
}
