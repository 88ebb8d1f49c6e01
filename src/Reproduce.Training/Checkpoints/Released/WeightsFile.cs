using Reproduce.Torch;
using Reproduce.Torch.IO;

namespace Reproduce.Training.Checkpoints.Released;

/// <summary>The state dict found in a weights file, and what was left out of it.</summary>
/// <param name="Path">The file.</param>
/// <param name="Entry">The wrapper entry the state dict came from (<c>model</c>, <c>state_dict_ema</c>, <c>teacher</c>, …), or null for a bare state dict.</param>
/// <param name="State">Tensors by key (<c>module.</c> and DINOv2's <c>backbone.</c> prefixes removed).</param>
/// <param name="Ignored">What the file holds besides the state dict's tensors, one line each (other entries, DINOv2's heads).</param>
public sealed record WeightsFileContent(string Path, string? Entry, Dictionary<string, Tensor> State, IReadOnlyList<string> Ignored);

/// <summary>
/// Reads the weights of a model from the formats projects release them in: safetensors, and PyTorch <c>torch.save</c> files
/// (<c>.pth</c>, <c>.pth.tar</c>, <c>.pt</c>, <c>.bin</c>; the zip format, read through libtorch by <see cref="TorchCheckpoint"/>).
/// Wrappers are opened as timm's <c>load_checkpoint</c> does: a training checkpoint's state dict is taken from
/// <c>state_dict_ema</c>, <c>model_ema</c>, <c>state_dict</c> or <c>model</c>, in that order (timm's <c>use_ema=True</c>), or
/// from the entry named by <c>entry</c>; <c>module.</c> prefixes (DataParallel / DDP) are removed. DINOv2 training checkpoints
/// (<c>teacher</c> / <c>student</c> entries, or <c>teacher.</c> / <c>student.</c> key prefixes inside <c>model</c>) give the
/// <c>backbone.</c> keys of the teacher (entry <c>student</c> for the student); their heads are listed as ignored.
/// </summary>
public static class WeightsFile
{
    /// <summary>The wrapper entries tried, in order, when none is named.</summary>
    public static readonly IReadOnlyList<string> WrapperEntries = ["state_dict_ema", "model_ema", "state_dict", "model", "teacher"];

    /// <summary>
    /// Reads <paramref name="path"/>; <paramref name="entry"/> names the wrapper entry (null: the first of
    /// <see cref="WrapperEntries"/>). <c>FILE#ENTRY</c> names the entry inside the path, so every <c>model.weights</c> /
    /// <c>--weights</c> can pick one (e.g. <c>checkpoint.pth#model</c> for the non-EMA weights) when no file of that name exists.
    /// With <paramref name="whole"/> the keys are kept as the file has them (only <c>module.</c> removed): a segmentor's
    /// or depther's <c>backbone.*</c>, <c>decode_head.*</c> and <c>auxiliary_head.*</c> together (<see cref="HeadWeights"/>).
    /// </summary>
    public static WeightsFileContent Read(string path, string? entry = null, bool whole = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        (path, entry) = SplitEntry(path, entry);
        if (!File.Exists(path)) throw new FileNotFoundException($"weights file '{path}' does not exist", path);
        if (IsSafeTensors(path))
        {
            if (entry is not null && entry != "student")
                throw new InvalidDataException($"weights file '{path}': a safetensors file has no entries, but entry '{entry}' was asked for");
            return Unprefix(new WeightsFileContent(path, null, SafeTensors.Load(path), []), entry, whole);
        }
        using var ckpt = TorchCheckpoint.Read(path);
        var tensors = ckpt.Entries.Where(e => e.Tensor is not null && e.Path.Count > 0).ToList();
        if (tensors.Count == 0)
            throw new InvalidDataException($"weights file '{path}' holds no tensors (it is not a state dict: {Describe(ckpt.Entries)})");
        string? chosen = null;
        if (tensors.All(e => e.Path.Count == 1)) chosen = null;
        else if (entry is not null && tensors.Any(e => e.Path[0] == entry)) chosen = entry;
        else if (entry is not null && entry != "student")
            throw new InvalidDataException($"weights file '{path}' has no entry '{entry}' holding tensors (entries: {TopLevel(tensors)})");
        else chosen = WrapperEntries.FirstOrDefault(w => tensors.Any(e => e.Path[0] == w))
            ?? throw new InvalidDataException($"weights file '{path}' is not a state dict and has none of the entries {string.Join(", ", WrapperEntries)} (entries with tensors: {TopLevel(tensors)}); name one with model.weights_entry / --weights-entry");
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var skip = chosen is null ? 0 : 1;
        foreach (var e in tensors.Where(e => chosen is null || e.Path[0] == chosen))
        {
            var key = string.Join('.', e.Path.Skip(skip));
            if (!state.TryAdd(key, e.Tensor!.Alias()))
                throw new InvalidDataException($"weights file '{path}': key '{key}' appears twice");
        }
        var ignored = ckpt.Entries.Where(e => chosen is not null && e.Path.Count > 0 && e.Path[0] != chosen)
            .Select(e => e.Path[0]).Distinct().Select(k => $"entry '{k}'").ToList();
        return Unprefix(new WeightsFileContent(path, chosen, state, ignored), entry, whole);
    }

    /// <summary>
    /// <c>FILE#ENTRY</c> → (FILE, ENTRY) when FILE exists and <paramref name="path"/> does not; otherwise unchanged. An entry
    /// given both ways must agree.
    /// </summary>
    public static (string Path, string? Entry) SplitEntry(string path, string? entry)
    {
        ArgumentNullException.ThrowIfNull(path);
        var hash = path.LastIndexOf('#');
        if (hash <= 0 || File.Exists(path) || !File.Exists(path[..hash])) return (path, entry);
        var named = path[(hash + 1)..];
        if (entry is not null && entry != named)
            throw new InvalidDataException($"weights file '{path[..hash]}': entry '{named}' in the path and entry '{entry}' were both given");
        return (path[..hash], named.Length == 0 ? entry : named);
    }

    /// <summary>Whether the weights file <paramref name="path"/> (optionally <c>FILE#ENTRY</c>) exists.</summary>
    public static bool Exists(string path) => File.Exists(SplitEntry(path, null).Path);

    /// <summary>Whether <paramref name="path"/> is read as safetensors (by extension, else by not being a torch.save file).</summary>
    public static bool IsSafeTensors(string path)
    {
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return true;
        Span<byte> head = stackalloc byte[2];
        using var f = File.OpenRead(path);
        return f.Read(head) < 2 || !TorchCheckpoint.LooksLikeTorchSave(head);
    }

    // module. (DataParallel), then DINOv2's teacher./student. and backbone. prefixes.
    private static WeightsFileContent Unprefix(WeightsFileContent c, string? entry, bool whole)
    {
        var state = c.State;
        if (state.Keys.Any(k => k.StartsWith("module.", StringComparison.Ordinal)))
            state = state.ToDictionary(kv => kv.Key.StartsWith("module.", StringComparison.Ordinal) ? kv.Key["module.".Length..] : kv.Key, kv => kv.Value, StringComparer.Ordinal);
        if (whole) return c with { State = state };
        var ignored = new List<string>(c.Ignored);
        if (state.Keys.All(k => k.StartsWith("teacher.", StringComparison.Ordinal) || k.StartsWith("student.", StringComparison.Ordinal)))
        {
            var branch = entry == "student" ? "student." : "teacher.";
            ignored.AddRange(state.Keys.Where(k => !k.StartsWith(branch, StringComparison.Ordinal)).Select(k => $"key '{k}'"));
            state = state.Where(kv => kv.Key.StartsWith(branch, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[branch.Length..], kv => kv.Value, StringComparer.Ordinal);
        }
        if (state.Keys.Any(k => k.StartsWith("backbone.", StringComparison.Ordinal)))
        {
            ignored.AddRange(state.Keys.Where(k => !k.StartsWith("backbone.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(k => $"key '{k}' (not part of the backbone)"));
            state = state.Where(kv => kv.Key.StartsWith("backbone.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["backbone.".Length..], kv => kv.Value, StringComparer.Ordinal);
        }
        if (state.Count == 0) throw new InvalidDataException($"weights file '{c.Path}': no tensors are left after choosing the {(entry == "student" ? "student" : "teacher")} backbone");
        return c with { State = state, Ignored = ignored };
    }

    private static string TopLevel(IEnumerable<TorchCheckpointEntry> entries) => string.Join(", ", entries.Select(e => e.Path[0]).Distinct().Take(20));

    private static string Describe(IReadOnlyList<TorchCheckpointEntry> entries) =>
        entries.Count == 0 ? "nothing" : string.Join("; ", entries.Take(5).Select(e => $"{(e.Path.Count == 0 ? "(root)" : e.PathText)} = {e.Description}"));
}
