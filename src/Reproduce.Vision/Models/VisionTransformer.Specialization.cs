using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Vision.Models.Layers;

namespace Reproduce.Vision.Models;

// [CLS]/patch specialization (arXiv 2602.08626) at the model level: init of the class paths, conversion from an
// unspecialized model, and loading a plain timm checkpoint into a specialized model.
public sealed partial class VisionTransformer
{
    /// <summary>True when some layer has a [CLS] path (<see cref="VitConfig.Specialization"/> is on).</summary>
    public bool IsSpecialized => NormCls is not null || _blocks.Any(b => b.Specialization is not null);

    private void InitClsPaths()
    {
        if (Config.Specialization is not { } spec) return;
        if (spec.InitFromShared) CopySharedToClsPaths();
        else
        {
            foreach (var b in _blocks) b.ResetClsPaths();
            NormCls?.ResetParameters();
        }
    }

    /// <summary>
    /// Conversion init: every class-path parameter copies the shared (patch-path) layer it specializes (LoRA
    /// updates get B = 0). The model then computes the unspecialized model's function; outputs agree bit for bit
    /// for norm, layer-scale and LoRA specializations and to float rounding for full linear copies (the class rows
    /// of those come from a separate, smaller GEMM whose blocking may round differently).
    /// </summary>
    public void CopySharedToClsPaths()
    {
        foreach (var b in _blocks) b.CopySharedToClsPaths();
        if (NormCls is not null) NormCls.CopyFrom((LayerNorm)Norm);
    }

    /// <summary>
    /// Loads an unspecialized (e.g. timm) state dict into this specialized model: every key of <paramref name="state"/>
    /// must exist here (shapes checked), the only keys allowed to be missing are the class-path ones
    /// (<c>*_cls.*</c>), and those are then filled by <see cref="CopySharedToClsPaths"/>. A state dict that has all
    /// the class-path keys (a specialized checkpoint) loads them as they are; one with only some of them is rejected.
    /// Throws naming the offending keys.
    /// </summary>
    public LoadResult LoadUnspecializedStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        var clsKeys = NamedParameters().Select(p => p.Name).Concat(NamedBuffers(persistentOnly: true).Select(b => b.Name)).Count(IsClsPathKey);
        var result = LoadStateDict(state, strict: false);
        var notClsPath = result.MissingKeys.Where(k => !IsClsPathKey(k)).ToList();
        if (result.UnexpectedKeys.Count > 0 || notClsPath.Count > 0)
            throw new TorchException($"VisionTransformer.LoadUnspecializedStateDict: missing keys [{string.Join(", ", notClsPath)}]; unexpected keys [{string.Join(", ", result.UnexpectedKeys)}]");
        var missingCls = result.MissingKeys.Count;
        if (missingCls > 0 && missingCls < clsKeys)
            throw new TorchException($"VisionTransformer.LoadUnspecializedStateDict: the state dict has only some class-path keys (missing [{string.Join(", ", result.MissingKeys)}])");
        if (missingCls > 0) CopySharedToClsPaths();
        return result;
    }

    /// <summary>True for a state-dict key of a class-path module (a path segment ending in <c>_cls</c>).</summary>
    public static bool IsClsPathKey(string key) => key.Split('.').Any(part => part.EndsWith("_cls", StringComparison.Ordinal));
}
