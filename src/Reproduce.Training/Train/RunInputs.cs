using Reproduce.Training.Config;

namespace Reproduce.Training.Train;

/// <summary>
/// The files and folders a run configuration names, checked before a run directory is created or touched, so that a
/// wrong path leaves nothing behind (and the next command with the same <c>--out</c> does not meet a half-written
/// directory). Each error names its key.
/// </summary>
public static class RunInputs
{
    /// <summary>
    /// Throws unless <c>data.root</c> (a folder), <c>model.weights</c> (a file) and, with token labeling,
    /// <c>token_label.source</c> (a store file or a released label folder) exist, where given.
    /// </summary>
    public static void Check(RunConfig config)
    {
        CheckDataRoot(config);
        if (config.Model.Weights is { } weights && !Checkpoints.Released.WeightsFile.Exists(weights))
            throw new FileNotFoundException($"model.weights: '{weights}' does not exist", weights);
        if (config.TokenLabel.Enabled && config.TokenLabel.Source is { } source && !File.Exists(source) && !Directory.Exists(source))
            throw new FileNotFoundException($"token_label.source: '{source}' (a token-label store or a released label folder) does not exist", source);
    }

    /// <summary>Throws unless <c>data.root</c>, where given, is an existing folder.</summary>
    public static void CheckDataRoot(RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Data.Root is { } root && !Directory.Exists(root))
            throw new DirectoryNotFoundException($"data.root: dataset root '{root}' does not exist");
    }
}
