using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Reproduce.Scripts.Tests;

/// <summary>
/// The main command's failure on a fresh clone, reproduced in miniature (FreshClone.fsx): committed results whose
/// gitignored artifacts (checkpoints, weights, token-label store) are absent, a refused row never recorded, and a
/// repetition that does not give the committed numbers bit for bit. The script must finish, record the refusal,
/// accept the re-created artifacts within the regression bands with one warning line, and then execute nothing.
/// </summary>
public sealed class FreshCloneTests : IClassFixture<FreshCloneTests.FirstRun>
{
    private const string Script = "tests/Reproduce.Scripts.Tests/FreshClone.fsx";

    private readonly FirstRun _first;

    public FreshCloneTests(FirstRun first) => _first = first;

    /// <summary>
    /// The first run from an empty results folder, made once: both tests start from it. Run directories record absolute
    /// paths (weights, token-label stores), so each test gets the first run's results back in the same folder.
    /// </summary>
    public sealed class FirstRun : IDisposable
    {
        private readonly TempDir _work = new();
        private readonly TempDir _saved = new();
        private readonly Lazy<FsiResult> _result;

        public FirstRun() => _result = new(() =>
        {
            var r = Run(_work);
            Copy(_work["results"], _saved["results"]);
            return r;
        });

        /// <summary>The folder as the first run left it, and that run's output.</summary>
        internal (TempDir Dir, FsiResult Result) Checkout()
        {
            var result = _result.Value;
            Directory.Delete(_work["results"], recursive: true);
            Copy(_saved["results"], _work["results"]);
            return (_work, result);
        }

        private static void Copy(string from, string to)
        {
            foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(to, Path.GetRelativePath(from, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }

        public void Dispose()
        {
            _work.Dispose();
            _saved.Dispose();
        }
    }

    private static FsiResult Run(TempDir dir, bool fail = false) =>
        FsiRunner.RunWith(Script, fail ? new Dictionary<string, string> { ["FRESH_CLONE_FAIL"] = "1" } : new Dictionary<string, string>(),
            "--profile", "smoke", "--results", dir["results"]);

    private static string RunDir(TempDir dir, string prefix) =>
        Directory.GetDirectories(dir["results/smoke/fresh-clone/runs"], prefix + "-*").Single();

    /// <summary>What a fresh clone holds after the committed results: the artifacts gone, the refusal unrecorded, the
    /// annotator's committed top-1 moved by <paramref name="top1Shift"/> (another machine's numerics).</summary>
    private static void MakeFreshClone(TempDir dir, double top1Shift)
    {
        var annotator = RunDir(dir, "annotator-s0");
        DeleteArtifacts(dir);
        Directory.Delete(RunDir(dir, "tl-cutmix-s0"), recursive: true);
        var finalPath = Path.Combine(annotator, "final.json");
        var final = JsonNode.Parse(File.ReadAllText(finalPath))!.AsObject();
        final["top1"] = final["top1"]!.GetValue<double>() + top1Shift;
        File.WriteAllText(finalPath, final.ToJsonString());
    }

    /// <summary>Removes what .gitignore keeps out of a clone: checkpoints, extracted weights, token-label stores.</summary>
    private static void DeleteArtifacts(TempDir dir)
    {
        var annotator = RunDir(dir, "annotator-s0");
        Directory.Delete(Path.Combine(annotator, "checkpoints"), recursive: true);
        File.Delete(Path.Combine(annotator, "weights-best.safetensors"));
        File.Delete(Path.Combine(RunDir(dir, "token-labels"), "store")); // a token-label store is one file
    }

    private static Dictionary<string, string> Snapshot(TempDir dir) =>
        Directory.GetFiles(dir["results"], "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir["results"], f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    private static void AssertNoStackTrace(FsiResult r) =>
        Assert.DoesNotContain(r.Stderr.Split('\n'), l => l.StartsWith("   at ", StringComparison.Ordinal));

    [Fact]
    public void RefusalIsRecordedArtifactsAreReCreatedWithinBandsAndARerunExecutesNothing()
    {
        var (dir, first) = _first.Checkout();
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("ROW refused: aug.mixup / aug.cutmix: with token labeling use MixToken instead", first.Stdout);
        Assert.Contains("EXECUTED 2", first.Stdout);
        var refusal = JsonNode.Parse(File.ReadAllText(Path.Combine(RunDir(dir, "tl-cutmix-s0"), "refused.json")))!;
        Assert.StartsWith("aug.mixup / aug.cutmix", refusal["error"]!.GetValue<string>());
        Assert.Equal("train", refusal["command"]![0]!.GetValue<string>());
        // The annotator's weights come from `reproduce weights`, the store's size from `reproduce annotate`'s JSON line.
        Assert.True(File.Exists(Path.Combine(RunDir(dir, "annotator-s0"), "weights-best.safetensors")));
        var labels = JsonNode.Parse(File.ReadAllText(Path.Combine(RunDir(dir, "token-labels"), "final.json")))!;
        Assert.Equal(192, labels["images"]!.GetValue<int>());
        Assert.Equal(5, labels["topk"]!.GetValue<int>());
        var runtime = JsonNode.Parse(File.ReadAllText(Path.Combine(RunDir(dir, "annotator-s0"), "runtime.json")))!;
        Assert.True(runtime["threads"]!.GetValue<int>() >= 1);
        Assert.False(string.IsNullOrEmpty(runtime["libtorch"]!.GetValue<string>()));

        MakeFreshClone(dir, top1Shift: 0.5);
        var committed = File.ReadAllText(Path.Combine(RunDir(dir, "annotator-s0"), "final.json"));
        var second = Run(dir);
        Assert.True(second.ExitCode == 0, second.ToString());
        AssertNoStackTrace(second);
        Assert.Contains("[token-labels] re-creating store", second.Stdout);
        Assert.Contains("[annotator] re-creating checkpoints (gitignored, absent here) by repeating the run on", second.Stdout);
        Assert.Single(second.Stdout.Split('\n'), l => l.Contains("warning:", StringComparison.Ordinal));
        Assert.Contains("within the regression bands (top1 ", second.Stdout);
        Assert.Contains("ROW refused: aug.mixup / aug.cutmix", second.Stdout);
        Assert.Equal(committed, File.ReadAllText(Path.Combine(RunDir(dir, "annotator-s0"), "final.json")));
        Assert.True(File.Exists(Path.Combine(RunDir(dir, "tl-cutmix-s0"), "refused.json")));

        // The committed state with the refusal recorded, as CI sees it: artifacts absent again. A re-run needs none of
        // them (a recorded refusal is re-asked with `train --check` only), executes nothing and changes no file.
        DeleteArtifacts(dir);
        var before = Snapshot(dir);
        var third = Run(dir);
        Assert.True(third.ExitCode == 0, third.ToString());
        Assert.DoesNotContain("re-creating", third.Stdout);
        Assert.Contains("[tl-cutmix] refused earlier:", third.Stdout);
        Assert.Contains("EXECUTED 0", third.Stdout);
        Assert.Equal(before, Snapshot(dir));
    }

    [Fact]
    public void NumbersBeyondTheBandsWarnButDoNotStopAndOtherFailuresAreOneLine()
    {
        var (dir, first) = _first.Checkout();
        Assert.True(first.ExitCode == 0, first.ToString());
        MakeFreshClone(dir, top1Shift: 30.0);
        var moved = Run(dir);
        Assert.True(moved.ExitCode == 0, moved.ToString());
        Assert.Contains("beyond the regression bands (top1 ", moved.Stdout);
        Assert.Contains("ROW refused:", moved.Stdout);

        var broken = Run(dir, fail: true);
        Assert.Equal(1, broken.ExitCode);
        AssertNoStackTrace(broken);
        var last = broken.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        Assert.StartsWith("error: `reproduce train", last);
        Assert.Contains("/nonexistent/fashion-mnist", last);
        Assert.Contains("re-running the script continues from here", last);
    }
}
