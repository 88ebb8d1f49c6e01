using Reproduce.Torch;

namespace Reproduce.Vision.Models.Layers;

/// <summary>
/// Splits a token sequence [B, N, D] into its leading [CLS]-path tokens (the first k) and the remaining
/// patch-path tokens, and joins them back, for the [CLS]/patch specialized layers
/// (<see cref="SpecializedLayerNorm"/>, <see cref="SpecializedLayerScale"/>, <see cref="SpecializedLinear"/>).
/// </summary>
internal static class TokenSplit
{
    /// <summary>The first <paramref name="k"/> tokens (a view).</summary>
    public static Tensor Head(Tensor tokens, int k) => tokens.Narrow(1, 0, k);

    /// <summary>Every token after the first <paramref name="k"/> (a view).</summary>
    public static Tensor Tail(Tensor tokens, int k) => tokens.Narrow(1, k, tokens.Size(1) - k);

    /// <summary>[head; tail] along the token axis.</summary>
    public static Tensor Join(Tensor head, Tensor tail) => Tensor.Cat([head, tail], 1);

    /// <summary>Throws unless <paramref name="tokens"/> is [B, N, D] with N ≥ k and the given width.</summary>
    public static void Check(Tensor tokens, int k, long dim, string who)
    {
        var s = tokens.Shape;
        if (s.Length != 3 || s[1] < k || s[2] != dim)
            throw new ArgumentException($"{who}: expected tokens [B, N ≥ {k}, {dim}], got {tokens.Describe()}");
    }
}
