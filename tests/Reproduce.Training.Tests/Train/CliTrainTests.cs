using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Reproduce.Training.Tests.Train;

/// <summary>`reproduce train` / `reproduce eval` as child processes: outputs, exit codes, kill -9 and --resume.</summary>
[Collection(nameof(SerialTests))]
public class CliTrainTests
{
    /// <summary>The CLI built beside this test assembly's configuration (the project reference builds it first).</summary>
    private static string CliDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = dir.Parent!.Name;                      // …/bin/<Configuration>/net10.0/
        var root = dir;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Reproduce.sln"))) root = root.Parent;
        Assert.NotNull(root);
        var dll = Path.Combine(root!.FullName, "src", "Reproduce.Cli", "bin", configuration, "net10.0", "reproduce.dll");
        Assert.True(File.Exists(dll), $"the CLI is not built at '{dll}'");
        return dll;
    }

    private static ProcessStartInfo Start(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(CliDll());
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var p = Process.Start(Start(args))!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "reproduce did not finish in 120 s");
        return (p.ExitCode, stdout, stderr.Result);
    }

    private static string[] TrainArgs(string outDir, params string[] extra) =>
        ["train", "--out", outDir, "--log-every", "1", .. TrainerTests.Smoke.SelectMany(s => new[] { "--set", s }), .. extra];

    [Fact]
    public void TrainWritesTheRunFilesAndEvalScoresItsCheckpoint()
    {
        using var dir = new TempDir();
        var (code, stdout, stderr) = Run(TrainArgs(dir["run"]));
        Assert.True(code == 0, stderr);
        Assert.Contains("img/s", stdout, StringComparison.Ordinal);
        var final = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!.AsObject();
        Assert.Equal(final.ToJsonString(), JsonNode.Parse(File.ReadAllText(dir["run/final.json"]))!.ToJsonString());
        Assert.True(File.Exists(dir["run/config.json"]) && File.Exists(dir["run/metrics.jsonl"]));

        var eval = Run("eval", "--from", dir["run"], "--checkpoint", "last", "--out", dir["eval"]);
        Assert.True(eval.Code == 0, eval.Err);
        var evalFinal = JsonNode.Parse(eval.Out.Trim().Split('\n')[^1])!;
        Assert.Equal(final["top1"]!.GetValue<double>(), evalFinal["top1"]!.GetValue<double>());
        Assert.True(File.Exists(dir["eval/final.json"]));
    }

    [Fact]
    public void KilledWithSigkillAndResumedEndsWithTheUninterruptedMetrics()
    {
        using var dir = new TempDir();
        var reference = Run(TrainArgs(dir["ref"]));
        Assert.True(reference.Code == 0, reference.Err);

        var killAt = 3 + new Random().Next(4);                     // a step in 3..6 of 8 (checkpoints every 2)
        using (var p = Process.Start(Start(TrainArgs(dir["run"])))!)
        {
            string? line;
            while ((line = p.StandardOutput.ReadLine()) is not null)
                if (line.StartsWith($"step {killAt}/", StringComparison.Ordinal)) break;
            Assert.NotNull(line);
            p.Kill(entireProcessTree: true);                       // SIGKILL
            p.WaitForExit();
        }
        Assert.False(File.Exists(dir["run/final.json"]));
        var resumed = Run(TrainArgs(dir["run"], "--resume"));
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Contains("resumed from step", resumed.Out, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(dir["ref/final.json"]), File.ReadAllText(dir["run/final.json"]));
        Assert.Equal(File.ReadAllText(dir["ref/metrics.jsonl"]), File.ReadAllText(dir["run/metrics.jsonl"]));
    }

    [Theory]
    [InlineData("optim.bogus=1", "unknown key 'optim.bogus'; valid keys under 'optim'")]
    [InlineData("optim.lr=abc", "'optim.lr' expects float")]
    public void BadOverrideFailsWithoutWritingAnything(string set, string expected)
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Run(TrainArgs(dir["run"], "--set", set));
        Assert.Equal(1, code); // malformed: an error to fix, not a refusal a script records
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir["run"]));
    }

    [Fact]
    public void CheckAcceptsOrRefusesWithoutReadingDataOrWritingTheRun()
    {
        using var dir = new TempDir();
        // Accepted: exit 0, nothing written; the token-label store named is never opened (it does not exist).
        var ok = Run(TrainArgs(dir["run"], "--check"));
        Assert.True(ok.Code == 0, ok.Err);
        Assert.Contains("accepted", ok.Out, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir["run"]));

        // Token labels with CutMix: the trainer's refusal, the same with and without --check (exit 3, no directory).
        string[] tlCutmix = ["--set", "model.name=lvvit_tiny_fm28", "--set", "token_label.enabled=true", "--set", $"token_label.source={dir["absent-store"]}",
            "--set", "aug.cutmix=1.0"];
        foreach (var extra in new[] { tlCutmix.Append("--check").ToArray(), tlCutmix })
        {
            var refused = Run(TrainArgs(dir["run"], extra));
            Assert.True(refused.Code == 3, refused.Err);
            Assert.Contains("error: aug.mixup / aug.cutmix: with token labeling use MixToken instead", refused.Err, StringComparison.Ordinal);
            Assert.False(Directory.Exists(dir["run"]));
        }

        // MixToken asked for without token labels names the keys to set.
        var mix = Run(TrainArgs(dir["run"], "--set", "model.name=lvvit_tiny_fm28", "--set", "model.mix_token=true", "--check"));
        Assert.True(mix.Code == 3, mix.Err);
        Assert.Contains("model.mix_token", mix.Err, StringComparison.Ordinal);
        Assert.Contains("token_label.enabled=true and token_label.source", mix.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void UnwritableOutputDirectoryFailsAndLeavesTheBlockingFileIntact()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["file"], "keep");
        var (code, _, stderr) = Run(TrainArgs(dir["file/run"]));
        Assert.NotEqual(0, code);
        Assert.Contains("cannot create the run directory", stderr, StringComparison.Ordinal);
        Assert.Equal("keep", File.ReadAllText(dir["file"]));
    }
}
