using Reproduce.Torch.IO;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Config;
using Reproduce.Training.Runs;

namespace Reproduce.Training.Tests.Checkpoints;

/// <summary>
/// `reproduce weights`: the plain model (or EMA) weights of a run's best or last checkpoint, written by a tiny
/// training run, in a file of their own — the contract the paper scripts use instead of parsing checkpoints.
/// </summary>
[Collection(nameof(SerialTests))]
public class WeightsExportTests
{
    /// <summary>A run directory with two checkpoints: the best (metric 0.9) at step 3, the last (metric 0.1) at step 5.
    /// Returns the model and EMA weights as they were at each save, keyed without prefix.</summary>
    private static (Dictionary<string, byte[]> Best, Dictionary<string, byte[]> Last) WriteRun(string runDir)
    {
        var config = RunConfig.Load(null, "name=weights-test");
        var run = RunDirectory.OpenOrCreateAt(runDir, config);
        var store = run.OpenCheckpoints();
        using var tiny = new TinyRun(1, 2);
        tiny.Train(3);
        var best = tiny.Snapshot();
        store.Save(tiny.Components, tiny.Progress(metric: 0.9), config);
        tiny.Train(2);
        var last = tiny.Snapshot();
        store.Save(tiny.Components, tiny.Progress(metric: 0.1), config);
        return (best, last);
    }

    private static Dictionary<string, byte[]> Section(Dictionary<string, byte[]> snapshot, string prefix) =>
        snapshot.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);

    private static Dictionary<string, byte[]> ReadFile(string path)
    {
        using var scope = Scope.Enter();
        return SafeTensors.Load(path).ToDictionary(kv => kv.Key, kv => kv.Value.ToBytes());
    }

    [Fact]
    public void BestLastAndEmaWeightsComeOutWithTimmKeysAndTheLastLineIsJson()
    {
        using var dir = new TempDir();
        var (best, last) = WriteRun(dir["run"]);

        var r = CliRunner.Run("weights", "--from", dir["run"], "--checkpoint", "best", "--out", dir["out/weights-best.safetensors"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = r.LastJson();
        Assert.Equal(dir["out/weights-best.safetensors"], json.GetProperty("file").GetString());
        var model = Section(best, "model.");
        Assert.Equal(model.Count, json.GetProperty("tensors").GetInt32());
        var got = ReadFile(dir["out/weights-best.safetensors"]);
        Assert.Equal(model.Keys.Order(StringComparer.Ordinal), got.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("patch_embed.proj.weight", got.Keys);
        foreach (var (k, v) in model) Assert.Equal(v, got[k]);

        var l = CliRunner.Run("weights", "--from", dir["run"], "--checkpoint", "last", "--out", dir["weights-last.safetensors"]);
        Assert.True(l.ExitCode == 0, l.Stderr);
        foreach (var (k, v) in Section(last, "model.")) Assert.Equal(v, ReadFile(dir["weights-last.safetensors"])[k]);
        Assert.NotEqual(model["head.weight"], ReadFile(dir["weights-last.safetensors"])["head.weight"]);

        var e = CliRunner.Run("weights", "--from", dir["run"], "--checkpoint", "last", "--ema", "--out", dir["ema.safetensors"]);
        Assert.True(e.ExitCode == 0, e.Stderr);
        var ema = ReadFile(dir["ema.safetensors"]);
        foreach (var (k, v) in Section(last, "ema.")) Assert.Equal(v, ema[k]);
        // Only the weights file is left: no temporary file beside it.
        Assert.Equal(["weights-best.safetensors"], Directory.GetFiles(dir["out"]).Select(Path.GetFileName));
    }

    [Fact]
    public void ErrorsNameTheRunAndTheFile()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["empty-run"]);
        var none = CliRunner.Run("weights", "--from", dir["empty-run"], "--out", dir["w.safetensors"]);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("error: run '" + dir["empty-run"] + "' has no checkpoints", none.Stderr);
        Assert.Contains("manifest.json", none.Stderr);
        Assert.False(File.Exists(dir["w.safetensors"]));

        var missing = CliRunner.Run("weights", "--from", dir["nowhere"], "--out", dir["w.safetensors"]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains(dir["nowhere"], missing.Stderr);

        WriteRun(dir["run"]);
        var bad = CliRunner.Run("weights", "--from", dir["run"], "--checkpoint", "middle", "--out", dir["w.safetensors"]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--checkpoint must be best or last, not 'middle'", bad.Stderr);

        // A damaged tensor file is caught by the checkpoint's recorded SHA-256, and the message names the checkpoint.
        var ckpt = Directory.GetDirectories(dir["run/checkpoints"], "ckpt-*").Order(StringComparer.Ordinal).Last();
        var tensors = Path.Combine(ckpt, CheckpointFormat.TensorsFile);
        var bytes = File.ReadAllBytes(tensors);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(tensors, bytes);
        var corrupt = CliRunner.Run("weights", "--from", dir["run"], "--checkpoint", "last", "--out", dir["w.safetensors"]);
        Assert.Equal(1, corrupt.ExitCode);
        Assert.Contains(ckpt, corrupt.Stderr);
        Assert.Contains("SHA-256", corrupt.Stderr);
        Assert.False(File.Exists(dir["w.safetensors"]));
    }
}
