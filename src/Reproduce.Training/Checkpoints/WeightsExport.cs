using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Training.Runs;

namespace Reproduce.Training.Checkpoints;

/// <summary>Which checkpoint of a run <see cref="WeightsExport"/> reads.</summary>
public enum WeightsCheckpoint
{
    /// <summary>The best by the run's metric; the last when none was ranked (as <c>reproduce eval</c> does).</summary>
    Best,
    /// <summary>The most recent.</summary>
    Last,
}

/// <summary>
/// The plain model state dict (timm keys) of a training run's checkpoint, in a safetensors file of its own: what
/// <c>annotate --weights</c>, <c>probe --set model.weights=…</c> and <c>analyze --weights</c> load. A checkpoint keeps
/// the model beside its EMA, optimizer and generator state (<see cref="CheckpointFormat"/>); this is the one place
/// outside the trainer that knows that layout, so callers (the paper scripts, via <c>reproduce weights</c>) never
/// parse checkpoints themselves.
/// </summary>
public static class WeightsExport
{
    private const string DinoV2Teacher = "teacher.backbone.";

    /// <summary>What an export wrote.</summary>
    /// <param name="File">Full path of the weights file.</param>
    /// <param name="Tensors">How many tensors it holds.</param>
    /// <param name="Checkpoint">The checkpoint directory it came from.</param>
    public sealed record Result(string File, int Tensors, string Checkpoint);

    /// <summary>
    /// Writes the model (or, with <paramref name="ema"/>, the EMA) weights of run <paramref name="runDir"/>'s
    /// <paramref name="which"/> checkpoint to <paramref name="outFile"/> (atomically: a temporary file, then a
    /// rename). The checkpoint is verified against its recorded SHA-256 on the way; of a DINOv2 run's checkpoint the
    /// teacher backbone is written (its <c>teacher.backbone.</c> keys, which are timm's). Errors are
    /// <see cref="CheckpointException"/>s that name the run and the file.
    /// </summary>
    public static Result Export(string runDir, WeightsCheckpoint which, bool ema, string outFile)
    {
        ArgumentNullException.ThrowIfNull(runDir);
        ArgumentNullException.ThrowIfNull(outFile);
        var run = Path.GetFullPath(runDir);
        if (!Directory.Exists(run)) throw new CheckpointException($"run directory '{run}' does not exist");
        var checkpoints = Path.Combine(run, RunDirectory.CheckpointsDir);
        var manifestPath = Path.Combine(checkpoints, CheckpointStore.ManifestFile);
        if (!File.Exists(manifestPath))
            throw new CheckpointException($"run '{run}' has no checkpoints (no {RunDirectory.CheckpointsDir}/{CheckpointStore.ManifestFile}): checkpoints are gitignored, so repeat the run to re-create them");
        var manifest = CheckpointManifest.Parse(File.ReadAllText(manifestPath), manifestPath);
        var name = which == WeightsCheckpoint.Best ? manifest.Best ?? manifest.Last : manifest.Last;
        if (name is null) throw new CheckpointException($"run '{run}' has no {which.ToString().ToLowerInvariant()} checkpoint in {manifestPath}");

        using var ckpt = Checkpoint.Read(Path.Combine(checkpoints, name));
        if (ema && !ckpt.HasEma) throw new CheckpointException($"checkpoint '{ckpt.Path}' of run '{run}' has no EMA weights");
        var state = ema ? ckpt.EmaState : ckpt.ModelState;
        // a DINOv2 checkpoint holds student and teacher (Pretraining.DinoV2TrainingState): its model is the teacher backbone
        if (!ema && state.Keys.Any(k => k.StartsWith(DinoV2Teacher, StringComparison.Ordinal)))
            state = state.Where(kv => kv.Key.StartsWith(DinoV2Teacher, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[DinoV2Teacher.Length..], kv => kv.Value, StringComparer.Ordinal);
        if (state.Count == 0)
            throw new CheckpointException($"checkpoint '{ckpt.Path}' of run '{run}' holds no tensor under '{(ema ? CheckpointFormat.Ema : CheckpointFormat.Model)}'");
        var target = Path.GetFullPath(outFile);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            using var scope = Scope.Enter();
            SafeTensors.Save(target, state);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"cannot write the weights of run '{run}' to '{target}': {e.Message}", e);
        }
        return new Result(target, state.Count, ckpt.Path);
    }
}
