using System.Globalization;
using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Probes;

/// <summary>One head of the linear-evaluation grid.</summary>
/// <param name="NLastBlocks">n: the [CLS] tokens of the last n blocks are concatenated.</param>
/// <param name="Avgpool">Whether the last block's average-pooled patch tokens are appended.</param>
/// <param name="Lr">The head's SGD learning rate (already scaled by the global batch / 256).</param>
public sealed record LinearHeadSpec(int NLastBlocks, bool Avgpool, double Lr)
{
    /// <summary>
    /// DINOv2's name of the head, <c>classifier_{n}_blocks_avgpool_{False|True}_lr_{lr:.5f}</c> with the dots made
    /// underscores (its state-dict key under <c>classifiers_dict</c>).
    /// </summary>
    public string Name => ("classifier_" + NLastBlocks.ToString(CultureInfo.InvariantCulture) + "_blocks_avgpool_" + (Avgpool ? "True" : "False")
        + "_lr_" + Lr.ToString("F5", CultureInfo.InvariantCulture)).Replace('.', '_');

    /// <summary>Width of the head's input for a backbone of width <paramref name="embedDim"/>: (n + avgpool)·D.</summary>
    public long InputDim(long embedDim) => (NLastBlocks + (Avgpool ? 1 : 0)) * embedDim;
}

/// <summary>
/// The heads of DINOv2's linear evaluation (dinov2 <c>eval/linear.py</c>: <c>create_linear_input</c>,
/// <c>LinearClassifier</c>, <c>AllClassifiers</c>), all fed by one forward of the frozen backbone. For the outputs
/// (z_1 … z_L) of the last L blocks after the final norm, each with class token c_l and patch tokens p_l,1 … p_l,P:
/// <code>
/// x(n, avgpool) = [c_(L−n+1) ‖ … ‖ c_L]                    (avgpool = false)
///               = [c_(L−n+1) ‖ … ‖ c_L ‖ (1/P) Σ_j p_L,j]   (avgpool = true)
/// logits = W·x + b,   W ~ N(0, 0.01²), b = 0
/// </code>
/// and the training loss is Σ_heads CE(logits_h, y) (each head's gradient is its own loss's). State-dict keys are
/// DINOv2's: <c>classifiers_dict.{name}.linear.weight|bias</c>.
/// </summary>
public sealed class LinearClassifierGrid : Module
{
    private readonly Holder _dict;
    private readonly List<Classifier> _heads = [];

    /// <summary>One head per <paramref name="specs"/> entry on a backbone of width <paramref name="embedDim"/>, for <paramref name="classes"/> classes.</summary>
    public LinearClassifierGrid(IReadOnlyList<LinearHeadSpec> specs, long embedDim, long classes, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(specs);
        if (specs.Count == 0) throw new ArgumentException("LinearClassifierGrid: no heads");
        if (specs.Select(s => s.Name).Distinct().Count() != specs.Count)
            throw new ArgumentException($"LinearClassifierGrid: two heads share a name ({string.Join(", ", specs.Select(s => s.Name))}); the lrs must differ at 5 decimals");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        Specs = specs;
        EmbedDim = embedDim;
        _dict = Register("classifiers_dict", new Holder());
        foreach (var s in specs) _heads.Add(_dict.Add(s.Name, new Classifier(s.InputDim(embedDim), classes, device)));
    }

    /// <summary>The heads, in output order.</summary>
    public IReadOnlyList<LinearHeadSpec> Specs { get; }

    /// <summary>D.</summary>
    public long EmbedDim { get; }

    /// <summary>The largest n of the grid: how many final blocks the backbone must return.</summary>
    public int MaxBlocks => Specs.Max(s => s.NLastBlocks);

    /// <summary>The parameters of head <paramref name="index"/> (weight, bias): one SGD parameter group each.</summary>
    public IEnumerable<Parameter> HeadParameters(int index) => _heads[index].Parameters();

    /// <summary>
    /// x(n, avgpool) from the last blocks' outputs <paramref name="lastBlocks"/> (in block order, final norm applied,
    /// at least n of them): the class tokens [B, D] of the last n concatenated, then the mean of the last block's
    /// patch grid [B, D, h, w] over its h·w positions when <paramref name="avgpool"/>.
    /// </summary>
    public static Tensor Features(IReadOnlyList<IntermediateLayer> lastBlocks, int n, bool avgpool)
    {
        ArgumentNullException.ThrowIfNull(lastBlocks);
        if (n < 1 || n > lastBlocks.Count) throw new ArgumentException($"linear probe: n = {n} needs that many blocks, {lastBlocks.Count} were returned");
        var parts = new List<Tensor>(n + 1);
        for (var i = lastBlocks.Count - n; i < lastBlocks.Count; i++)
            parts.Add(lastBlocks[i].ClassToken ?? throw new ArgumentException($"linear probe: block {lastBlocks[i].Block} has no class token; the probe reads [CLS]"));
        if (avgpool) parts.Add(lastBlocks[^1].Patches.Mean([2L, 3L]));
        return parts.Count == 1 ? parts[0] : Tensor.Cat(parts, 1);
    }

    /// <summary>Every head's logits [B, classes] for the last blocks' outputs (see <see cref="Features"/>).</summary>
    public Tensor[] Forward(IReadOnlyList<IntermediateLayer> lastBlocks)
    {
        var features = new Dictionary<(int, bool), Tensor>();
        var logits = new Tensor[_heads.Count];
        for (var h = 0; h < _heads.Count; h++)
        {
            var key = (Specs[h].NLastBlocks, Specs[h].Avgpool);
            if (!features.TryGetValue(key, out var x)) features[key] = x = Features(lastBlocks, key.Item1, key.Item2);
            logits[h] = _heads[h].Linear.Forward(x);
        }
        return logits;
    }

    /// <summary>Σ_heads mean cross-entropy of each head's logits against <paramref name="labels"/> [B] (int64).</summary>
    public Tensor Loss(IReadOnlyList<IntermediateLayer> lastBlocks, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Tensor? total = null;
        foreach (var logits in Forward(lastBlocks))
        {
            var ce = F.CrossEntropy(logits, labels);
            total = total is null ? ce : total.Add(ce);
        }
        return total!;
    }

    private sealed class Holder : Module
    {
        public Classifier Add(string name, Classifier c) => Register(name, c);
    }

    private sealed class Classifier : Module
    {
        public Classifier(long inDim, long classes, Device? device)
        {
            Linear = Register("linear", new Linear(inDim, classes, device: device));
            using var noGrad = Torch.Torch.NoGrad();
            Init.Normal_(Linear.Weight, 0, 0.01);
            Init.Zeros_(Linear.Bias!);
        }

        public Linear Linear { get; }
    }
}
