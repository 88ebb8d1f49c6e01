namespace Reproduce.Vision.Data.TokenLabels;

/// <summary>Opens the token-label source a path names, by what is there.</summary>
public static class TokenLabelSources
{
    /// <summary>
    /// A folder is TokenLabeling's released layout (<see cref="OfficialTokenLabels"/>: <c>&lt;wnid&gt;/&lt;stem&gt;.pt</c>,
    /// e.g. <c>label_top5_train_nfnet</c>); a file is a store written by <c>reproduce annotate</c>
    /// (<see cref="TokenLabelStore"/>, to be disposed by the caller). Neither: <see cref="FileNotFoundException"/> naming the path.
    /// </summary>
    public static ITokenLabelSource Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) return new OfficialTokenLabels(path);
        if (File.Exists(path)) return TokenLabelStore.Open(path);
        throw new FileNotFoundException(
            $"token-label source '{path}' does not exist (a store file from `reproduce annotate`, or a folder of TokenLabeling's released maps)", path);
    }
}
