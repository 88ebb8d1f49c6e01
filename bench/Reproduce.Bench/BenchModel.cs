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
            Batch: 128, DefaultWarmup: 1, DefaultSteps: 3),
        // ViT-S/16 at 224×224×3, 1000 classes.
        new("vit_s16", VitConfig.SmallPatch16, Batch: 16, DefaultWarmup: 1, DefaultSteps: 2),
    ];

    public static BenchModel Get(string name) =>
        All.FirstOrDefault(m => m.Name == name) ?? throw new ArgumentException($"unknown model '{name}' (known: {string.Join(", ", All.Select(m => m.Name))})");

    /// <summary>
    /// Forward matmul/conv FLOPs of one image (2 per multiply-add), with T = patches + 1 tokens, D width,
    /// Hm MLP width, P patches, p patch side, C channels, K classes:
    /// 2·P·C·p²·D (patch conv) + depth·(2·T·D·3D (qkv) + 2·T²·D (q·kᵀ) + 2·T²·D (attn·v) + 2·T·D² (proj) + 2·2·T·D·Hm (fc1, fc2)) + 2·D·K (head).
    /// Norms, softmax, GELU and element-wise ops are not counted.
    /// </summary>
    public double ForwardFlopsPerImage()
    {
        var c = Config;
        double t = c.NumTokens, d = c.EmbedDim, hm = c.MlpHiddenDim, p = c.PatchSize;
        var patch = 2.0 * c.NumPatches * c.InChans * p * p * d;
        var block = 2 * t * d * 3 * d + 2 * t * t * d + 2 * t * t * d + 2 * t * d * d + 2 * 2 * t * d * hm;
        var head = 2.0 * d * c.NumClasses;
        return patch + c.Depth * block + head;
    }

    /// <summary>Training FLOPs of one image: forward + backward ≈ 3 × forward (backward computes two products per forward one).</summary>
    public double TrainFlopsPerImage() => 3 * ForwardFlopsPerImage();
}
