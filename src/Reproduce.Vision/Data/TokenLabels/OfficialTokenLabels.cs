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
    /// <summary>The folder name of the release and of generate_label.py's output in the README's command.</summary>
    public const string FolderName = "label_top5_train_nfnet";

    /// <summary>
    /// The release's download (the TokenLabeling README, "Label data": NFNet-F6's maps, Google Drive; a Baidu Yun mirror
    /// is listed there too). The archive's size is not stated.
    /// </summary>
    public const string DownloadUrl = "https://drive.google.com/file/d/1Cat8HQPSRVJFPnBLlfzVE0Exe65a_4zh/view?usp=sharing";

    /// <summary>Top-k of the released maps (generate_label.py's <c>output.topk(5)</c>).</summary>
    public const int ReleasedTopK = 5;

    /// <summary>Side of the released maps: NFNet-F6 at 576 px, stride 32.</summary>
    public const int ReleasedSide = 18;

    /// <summary>Reads maps below <paramref name="root"/> (the folder holding one sub-folder per wnid).</summary>
    public OfficialTokenLabels(string root)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"TokenLabeling label folder '{root}' does not exist");
        Root = root;
    }

    /// <summary>The label folder.</summary>
    public string Root { get; }

    /// <summary>
    /// The file holding <paramref name="key"/>'s map ("n01440764/n01440764_10026" → root/n01440764/n01440764_10026.pt). As
    /// generate_label.py names files (<c>'/'.join(path.split('/')[-2:]).split('.')[0] + '.pt'</c>), a file name is cut
    /// at its first '.'.
    /// </summary>
    public string PathOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.LastIndexOf('/');
        var dot = key.IndexOf('.', slash + 1);
        var stem = dot < 0 ? key : key[..dot];
        return System.IO.Path.Combine(Root, stem.Replace('/', System.IO.Path.DirectorySeparatorChar) + ".pt");
    }

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
