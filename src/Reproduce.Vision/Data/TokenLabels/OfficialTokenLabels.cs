using Reproduce.Torch;
using Reproduce.Torch.IO;

namespace Reproduce.Vision.Data.TokenLabels;

/// <summary>
/// Reads the label maps released with TokenLabeling (docs/papers/token-labeling.md §1.4): one <c>torch.save</c> file per
/// training image at <c>&lt;root&gt;/&lt;wnid&gt;/&lt;image stem&gt;.pt</c> holding a half tensor
/// [2, k, H, W] (plane 0: raw top-k scores, plane 1: their class indices; k = 5, H = W = 18 for the
/// NFNet-F6 annotator at 576 px). Files are decoded by libtorch's unpickler through the native layer.
/// The released maps were computed on the annotator's center crop (crop_pct 1.0: the central square of
/// the shorter side), which TokenLabeling nevertheless treats as covering the whole image; so do we.
/// </summary>
public sealed class OfficialTokenLabels : ITokenLabelSource
{
    /// <summary>Reads maps below <paramref name="root"/> (the folder holding one sub-folder per wnid).</summary>
    public OfficialTokenLabels(string root)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"TokenLabeling label folder '{root}' does not exist");
        Root = root;
    }

    /// <summary>The label folder.</summary>
    public string Root { get; }

    /// <summary>The file holding <paramref name="key"/>'s map ("n01440764/n01440764_10026" → root/n01440764/n01440764_10026.pt).</summary>
    public string PathOf(string key) => System.IO.Path.Combine(Root, key.Replace('/', System.IO.Path.DirectorySeparatorChar) + ".pt");

    /// <inheritdoc/>
    public bool Contains(string key) => File.Exists(PathOf(key));

    /// <inheritdoc/>
    public TokenLabelMap Read(string key)
    {
        var path = PathOf(key);
        if (!File.Exists(path)) throw new KeyNotFoundException($"no TokenLabeling map for '{key}': '{path}' does not exist");
        return Parse(TorchPickle.LoadTensors(path), path);
    }

    /// <summary>Validates and splits the [2,k,H,W] tensor of one file (the tensors are consumed).</summary>
    public static TokenLabelMap Parse(Tensor[] tensors, string path)
    {
        using var s = Scope.Enter();
        try
        {
            if (tensors.Length != 1)
                throw new InvalidDataException($"{path}: expected one tensor [2,k,H,W], found {tensors.Length}");
            var t = tensors[0];
            var shape = t.Shape;
            if (shape.Length != 4 || shape[0] != 2)
                throw new InvalidDataException($"{path}: expected a tensor [2,k,H,W] (scores, indices), got {t.Describe()}");
            var values = t.Select(0, 0).To(ScalarType.Float32).Contiguous();
            var rawIdx = t.Select(0, 1).To(ScalarType.Float32);
            var idx = rawIdx.Round().To(ScalarType.Int64).Contiguous();
            if (rawIdx.Ne(idx.To(ScalarType.Float32)).Any().ToInt64() != 0 || idx.Min().ToInt64() < 0)
                throw new InvalidDataException($"{path}: plane 1 of {t.Describe()} must hold non-negative integer class indices");
            return new TokenLabelMap(s.MoveOut(values), s.MoveOut(idx));
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
    }
}
