namespace Reproduce.Vision.Data.TokenLabels;

/// <summary>
/// Where training finds an image's token-label map: our own store (<see cref="TokenLabelStore"/>) or
/// the official TokenLabeling download (<see cref="OfficialTokenLabels"/>). Keys are the image's path
/// relative to the split root without extension, with '/' separators (e.g. "n01440764/n01440764_10026").
/// Implementations are safe to call from several loader threads at once.
/// </summary>
public interface ITokenLabelSource
{
    /// <summary>True when a map exists for <paramref name="key"/>.</summary>
    bool Contains(string key);

    /// <summary>
    /// The map for <paramref name="key"/>, its tensors in the caller's current scope; throws
    /// <see cref="KeyNotFoundException"/> naming the key and the source when there is none.
    /// </summary>
    TokenLabelMap Read(string key);
}
