using System.Text.Json.Nodes;
using Reproduce.Training.Config;
using Reproduce.Training.Probes;
using Reproduce.Training.Runs;
using Reproduce.Training.Tests.Train;
using Xunit.Abstractions;

namespace Reproduce.Training.Tests.Probes;

/// <summary>
/// <c>reproduce probe cls</c> under <c>reproduce launch</c>, 2 processes on loopback × batch 4 against one process ×
/// batch 8: each rank takes its half of the same augmented global batch (per-sample generators from one stream), the
/// heads' gradients are averaged (each rank's mean CE over an equal share, so the global mean), the lr is scaled by the
/// global batch, and the evaluation counts are summed over ranks.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class LaunchedClassificationProbeTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TwoRanksOfFourMatchOneProcessOfEight()
    {
        string[] Sets(int batch) =>
        [
            "threads=1", "model.img_size=32", "data.img_size=32", "data.eval_limit=64", "optim.steps=4", "probe.lrs=[1]",
            "probe.n_last_blocks=[4]", "probe.avgpool=[true]", $"data.batch_size={batch}",
        ];
        string[] Probe(string outDir, int batch) => ["probe", "cls", .. Sets(batch).SelectMany(kv => new[] { "--set", kv }), "--out", outDir];
        var (code, text) = LaunchedRun.Run(180, ["launch", "--nproc-per-node", "2", "--", .. Probe(_dir["two"], 4)]);
        Assert.True(code == 0, text);
        ProbeRun.Run(ProbeRun.Resolve(ProbeTask.Classification, null, Sets(8)), _dir["one"]);

        var two = RunDirectory.Open(_dir["two"]);
        var one = RunDirectory.Open(_dir["one"]);
        var losses2 = two.Metrics.Read().Select(r => r["loss"]!.GetValue<double>()).ToArray();
        var losses1 = one.Metrics.Read().Select(r => r["loss"]!.GetValue<double>()).ToArray();
        JsonObject f2 = two.ReadFinal()!, f1 = one.ReadFinal()!;
        output.WriteLine($"losses {string.Join(", ", losses2)} vs {string.Join(", ", losses1)}; top-1 {f2["top1"]} vs {f1["top1"]}");
        Assert.Equal(4, losses2.Length); // rank 0 alone wrote the steps
        for (var i = 0; i < 4; i++) Assert.True(Math.Abs(losses2[i] - losses1[i]) <= 1e-5 * Math.Abs(losses1[i]), $"step {i + 1}: loss {losses2[i]} vs {losses1[i]}");
        Assert.Equal(64, f2["eval_images"]!.GetValue<long>()); // both ranks' shares, summed
        Assert.Equal(f1["heads_lr"]!.AsArray()[0]!.GetValue<double>(), f2["heads_lr"]!.AsArray()[0]!.GetValue<double>()); // 1 × 8 / 256 both
        Assert.Equal(f1["top1"]!.GetValue<double>(), f2["top1"]!.GetValue<double>(), 1e-9);
        Assert.Equal(f1["top5"]!.GetValue<double>(), f2["top5"]!.GetValue<double>(), 1e-9);
        Assert.True(File.Exists(Path.Combine(_dir["two"], ClassificationProbeRun.HeadsFile)), "rank 0 writes the heads");
    }
}
