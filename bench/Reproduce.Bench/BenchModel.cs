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
    ];

    public static BenchModel Get(string name) =>
        All.FirstOrDefault(m => m.Name == name) ?? throw new ArgumentException($"unknown model '{name}' (known: {string.Join(", ", All.Select(m => m.Name))})");

    /// <summary>Training FLOPs of one image: forward + backward ≈ 3 × forward (backward computes two products per forward one).</summary>
    public double TrainFlopsPerImage() => 3 * Config.ForwardMatmulFlops();
}
