using Reproduce.Vision.Models;

namespace Reproduce.Bench;

/// <summary>A benchmarked training workload: a ViT configuration, a batch size and default step counts.</summary>
internal sealed record BenchModel(string Name, VitConfig Config, int Batch, int DefaultWarmup, int DefaultSteps)
{
    /// <summary>The models <c>bench/pytorch_bench.py</c> knows under the same names, with the same shapes.</summary>
    public static readonly IReadOnlyList<BenchModel> All =
    [
        // ViT on 28×28×1 (Fashion-MNIST-sized) inputs: 7×7 patches of 4×4, D 192, 6 blocks, 3 heads.
        new("vit192", new VitConfig { ImgSize = 28, PatchSize = 4, InChans = 1, NumClasses = 10, EmbedDim = 192, Depth = 6, NumHeads = 3, MlpRatio = 4 },
            Batch: 128, DefaultWarmup: 2, DefaultSteps: 3),
        // ViT-S/16 at 224×224×3, 1000 classes.
        new("vit_s16", VitConfig.SmallPatch16, Batch: 16, DefaultWarmup: 2, DefaultSteps: 2),
        // ViT-B/16 at 224×224×3, 1000 classes (the GPU kit's bench).
        new("vit_b16", VitConfig.BasePatch16, Batch: 8, DefaultWarmup: 2, DefaultSteps: 2),
        // LV-ViT-S's backbone (conv stem, 16 blocks, MLP 3×, no qkv bias, skip_lam 2) with the class-token head only:
        // no aux head and no MixToken, so both sides train plain cross-entropy (the GPU kit's bench).
        new("lvvit_s", LvVit.Small with { ReturnDense = false, MixToken = false }, Batch: 8, DefaultWarmup: 2, DefaultSteps: 2),
    ];

    public static BenchModel Get(string name) =>
        All.FirstOrDefault(m => m.Name == name) ?? throw new ArgumentException($"unknown model '{name}' (known: {string.Join(", ", All.Select(m => m.Name))})");

    /// <summary>The same model at another input size and batch (the GPU kit's tiny --cpu runs); null keeps the value.</summary>
    public BenchModel Resized(int? imgSize, int? batch) =>
        this with { Config = Config with { ImgSize = imgSize ?? Config.ImgSize }, Batch = batch ?? Batch };

    /// <summary>Training FLOPs of one image: forward + backward ≈ 3 × forward (backward computes two products per forward one).</summary>
    public double TrainFlopsPerImage() => 3 * Config.ForwardMatmulFlops();
}
