using Reproduce.Training.Config;
using Reproduce.Training.Tests.Train;

namespace Reproduce.Training.Tests.Config;

/// <summary>
/// Every command that writes a run directory or an output file checks its whole configuration first: a bad model
/// name or option, a malformed augmentation string (also when another key turns augmentation off) or a missing
/// dataset root exits non-zero with one <c>error:</c> line naming the key, and leaves no file behind — the output is
/// not created when it did not exist, and an existing one is left as it was. The CLI runs as a subprocess.
/// </summary>
[Collection(nameof(SerialTests))]
public class ValidateBeforeWriteTests
{
    private static readonly string[] SmokeSets = TrainerTests.Smoke.SelectMany(s => new[] { "--set", s }).ToArray();

    /// <summary>Asserts the exit code, a single stderr line that starts with "error:" and names <paramref name="key"/>.</summary>
    private static void AssertRefused(CliResult r, int code, string key)
    {
        Assert.True(r.ExitCode == code, $"exit {r.ExitCode} (expected {code}); stderr: {r.Stderr}");
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one stderr line, got {lines.Length}:\n{r.Stderr}");
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(key, lines[0], StringComparison.Ordinal);
    }

    /// <summary>A folder that existed before the command, with one file in it, is still exactly that.</summary>
    private static string ExistingOut(TempDir dir)
    {
        var path = dir["existing"];
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "keep.txt"), "keep");
        return path;
    }

    private static void AssertUntouched(string existing)
    {
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(existing).Select(Path.GetFileName));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(existing, "keep.txt")));
    }

    public static TheoryData<string[], int, string> TrainCases => new()
    {
        // A malformed configuration is exit 1 (a refused but well-formed combination is 3: CliTrainTests).
        { ["--set", "model.name=nope"], 1, "model.name" },
        { ["--set", "model.anf.kernel_size=x"], 1, "model.anf.kernel_size" },
        { ["--set", "aug.no_aug=true", "--set", "aug.randaugment=rand-m99-zz"], 1, "aug.randaugment" },
        { ["--set", "aug.randaugment=rand-m99"], 1, "aug.randaugment" },
        // A missing input is a failure (exit 1), found before the run directory is made.
        { ["--set", "data.root=/nonexistent/fashion-mnist"], 1, "data.root" },
        { ["--set", "model.weights=/nonexistent/w.safetensors"], 1, "model.weights" },
    };

    [Theory]
    [MemberData(nameof(TrainCases))]
    public void TrainRefusesBeforeWriting(string[] bad, int code, string key)
    {
        using var dir = new TempDir();
        AssertRefused(CliRunner.Run(["train", "--out", dir["run"], .. SmokeSets, .. bad]), code, key);
        Assert.False(Directory.Exists(dir["run"]));
        var existing = ExistingOut(dir);
        AssertRefused(CliRunner.Run(["train", "--out", existing, .. SmokeSets, .. bad]), code, key);
        AssertUntouched(existing);
    }

    [Theory]
    [InlineData("model.name=nope", "model.name")]
    [InlineData("model.anf.kernel_size=x", "model.anf.kernel_size")]
    [InlineData("aug.randaugment=rand-m9-zz", "aug.randaugment")]
    [InlineData("data.root=/nonexistent/fashion-mnist", "data.root")]
    public void EvalRefusesBeforeWriting(string bad, string key)
    {
        using var dir = new TempDir();
        // A training run directory as `train` leaves it (config.json); the bad key comes on top of it.
        Directory.CreateDirectory(dir["from"]);
        File.WriteAllText(Path.Combine(dir["from"], "config.json"), ConfigJson.Indented(TrainerTests.Config()));
        AssertRefused(CliRunner.Run("eval", "--from", dir["from"], "--set", bad, "--out", dir["eval"]), 1, key);
        Assert.False(Directory.Exists(dir["eval"]));
        var existing = ExistingOut(dir);
        AssertRefused(CliRunner.Run("eval", "--from", dir["from"], "--set", bad, "--out", existing), 1, key);
        AssertUntouched(existing);
    }

    [Theory]
    [InlineData("model.name=nope", "model.name")]
    [InlineData("model.anf.kernel_size=x", "model.anf.kernel_size")]
    [InlineData("aug.randaugment=rand-m99-zz", "aug.randaugment")]
    [InlineData("data.root=/nonexistent/scenes", "data.root")]
    [InlineData("model.weights=/nonexistent/w.safetensors", "model.weights")]
    public void ProbeRefusesBeforeWriting(string bad, string key)
    {
        using var dir = new TempDir();
        foreach (var task in new[] { "seg", "depth" })
        {
            AssertRefused(CliRunner.Run("probe", task, "--set", bad, "--out", dir["probe"]), 1, key);
            Assert.False(Directory.Exists(dir["probe"]));
        }
        var existing = ExistingOut(dir);
        AssertRefused(CliRunner.Run("probe", "seg", "--set", bad, "--out", existing), 1, key);
        AssertUntouched(existing);
    }

    [Theory]
    [InlineData(new[] { "--model", "nope" }, "nope")]
    [InlineData(new[] { "--data", "nope" }, "nope")]
    [InlineData(new[] { "--root", "/nonexistent/fashion-mnist" }, "--root")]
    public void AnnotateRefusesBeforeWriting(string[] bad, string key)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["teacher.safetensors"], "");
        string[] Args(string[] extra)
        {
            var args = new Dictionary<string, string>
            {
                ["--model"] = "resnet_tiny_fm28", ["--weights"] = dir["teacher.safetensors"], ["--data"] = "fashion-mnist",
                ["--resolution"] = "28", ["--topk"] = "2", ["--out"] = dir["labels.tlstore"],
            };
            for (var i = 0; i < extra.Length; i += 2) args[extra[i]] = extra[i + 1];
            return ["annotate", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })];
        }
        AssertRefused(CliRunner.Run(Args(bad)), 1, key);
        Assert.Equal(["teacher.safetensors"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(new[] { "--model", "nope" }, "nope")]
    [InlineData(new[] { "--model", "vit_tiny_fm28", "--set", "anf.kernel_size=x" }, "anf.kernel_size")]
    [InlineData(new[] { "--model", "vit_tiny_scenes64", "--root", "/nonexistent/scenes" }, "--root")]
    public void AnalyzeRefusesBeforeWriting(string[] bad, string key)
    {
        using var dir = new TempDir();
        AssertRefused(CliRunner.Run(["analyze", .. bad, "--out", dir["sub/analysis.json"]]), 1, key);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Theory]
    [InlineData(new[] { "--model", "nope" }, "nope")]
    [InlineData(new[] { "--model", "vit_tiny_fm28", "--set", "anf.kernel_size=x" }, "anf.kernel_size")]
    [InlineData(new[] { "--model", "vit_tiny_fm28", "--variant", "anf.kernel_size=x" }, "anf.kernel_size")]
    public void BenchRefusesBeforeTiming(string[] bad, string key)
    {
        // bench writes no file: it must refuse before building or timing anything, with the same one line.
        var r = CliRunner.Run(["bench", .. bad, "--steps", "1", "--warmup", "0", "--rounds", "1"]);
        AssertRefused(r, 1, key);
        Assert.DoesNotContain("ms/step", r.Stdout, StringComparison.Ordinal);
    }
}
