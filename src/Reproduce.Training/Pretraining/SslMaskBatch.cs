using Reproduce.Torch;
using Reproduce.Vision.Data;

namespace Reproduce.Training.Pretraining;

/// <summary>
/// The iBOT masks of one batch of global crops, drawn as dinov2's <c>collate_data_and_cast</c> draws them: of the B
/// crops, n = ⌊B·p⌋ (p = mask_sample_probability, 0.5) get a block mask whose size is spread over the ratio range
/// (r_min, r_max) = (0.1, 0.5):
/// <code>
/// q = linspace(r_min, r_max, n + 1)                 (float32, as torch.linspace)
/// crop i &lt; n: ⌊N · U(q_i, q_(i+1))⌋ patches         (float32 arithmetic, as the reference's tensors)
/// crop i ≥ n: no mask
/// upper bound = Σ_(i&lt;n) ⌊N · q_(i+1)⌋
/// </code>
/// then the B masks are shuffled (Python's Fisher–Yates order).
/// </summary>
/// <param name="Masks">Row-major [B, N] masks.</param>
/// <param name="Batch">B.</param>
/// <param name="Patches">N.</param>
/// <param name="UpperBound">The reference's <c>upperbound</c> (the padded length of its masked-token buffers).</param>
public sealed record SslMaskBatch(bool[] Masks, int Batch, int Patches, int UpperBound)
{
    /// <summary>Draws the masks of <paramref name="batch"/> crops of <paramref name="generator"/>'s grid.</summary>
    public static SslMaskBatch Sample(int batch, (double Min, double Max) ratio, double probability, BlockMaskGenerator generator, Random rng)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if (probability is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(probability), probability, "mask sample probability must lie in [0, 1]");
        if (ratio.Min < 0 || ratio.Max > 1 || ratio.Min > ratio.Max)
            throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "mask ratio must be a (min, max) range within [0, 1]");
        var n = generator.NumPatches;
        var masked = (int)(batch * probability);
        var q = Linspace32((float)ratio.Min, (float)ratio.Max, masked + 1);
        var list = new List<bool[]>(batch);
        var upper = 0;
        for (var i = 0; i < masked; i++)
        {
            var u = q[i] + (q[i + 1] - q[i]) * (float)rng.NextDouble();
            list.Add(generator.Generate((int)(n * u), rng));
            upper += (int)(n * q[i + 1]);
        }
        for (var i = masked; i < batch; i++) list.Add(generator.Generate(0, rng));
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return new SslMaskBatch([.. list.SelectMany(m => m)], batch, n, upper);
    }

    /// <summary>The masks as a bool tensor [B, N].</summary>
    public Tensor ToTensor()
    {
        var bytes = Masks.Select(m => m ? (byte)1 : (byte)0).ToArray();
        return Tensor.FromBytes(bytes, ScalarType.Bool, [Batch, Patches]);
    }

    /// <summary>Masked patches in the batch.</summary>
    public int MaskedCount => Masks.Count(m => m);

    /// <summary>torch.linspace in float32: start + step·i for the first half, end − step·(steps − 1 − i) for the rest.</summary>
    internal static float[] Linspace32(float start, float end, int steps)
    {
        var r = new float[steps];
        if (steps == 1) r[0] = start;
        if (steps <= 1) return r;
        var step = (end - start) / (steps - 1);
        var half = steps / 2;
        for (var i = 0; i < steps; i++) r[i] = i < half ? start + step * i : end - step * (steps - i - 1);
        return r;
    }
}
