namespace Reproduce.Scripts.Tests;

/// <summary>
/// The full plans built on scripts/Backbone.fsx (here specialization.fsx, which probes all three dense tasks): every
/// pretraining reads configs/full/vit-b16-imagenet.json and every probe its task's configs/full/probe-*.json, plus the
/// backbone's weights, its model options and the dataset root.
/// </summary>
public sealed class BackboneFullPlanTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void PretrainingAndProbesReadTheCommittedRecipes()
    {
        foreach (var d in new[] { "imagenet", "ade", "nyu", "kitti" }) Directory.CreateDirectory(_dir[d]);
        File.WriteAllText(_dir["roots.json"],
            $$"""{ "imagenet": "{{_dir["imagenet"]}}", "ade20k": "{{_dir["ade"]}}", "nyu": "{{_dir["nyu"]}}", "kitti": "{{_dir["kitti"]}}" }""");
        var env = new Dictionary<string, string> { ["REPRODUCE_IMAGENET"] = "", ["REPRODUCE_ADE20K"] = "", ["REPRODUCE_NYU"] = "", ["REPRODUCE_KITTI"] = "" };
        var r = FsiRunner.RunWith("scripts/specialization.fsx", env,
            "--profile", "full", "--data-config", _dir["roots.json"], "--results", _dir["results"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var planned = r.Stdout.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("reproduce ", StringComparison.Ordinal)).ToList();
        var trains = planned.Where(l => l.StartsWith("reproduce train ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(trains);
        Assert.All(trains, t => Assert.StartsWith($"reproduce train --config configs/full/vit-b16-imagenet.json --set profile=full --set name=pretrain-", t));
        Assert.All(trains, t => Assert.Contains($"--set data.root={_dir["imagenet"]} ", t, StringComparison.Ordinal));
        foreach (var (task, config, root) in new[] { ("seg", "probe-seg-ade20k", "ade"), ("depth", "probe-depth-nyu", "nyu"), ("depth", "probe-depth-kitti", "kitti") })
        {
            var probes = planned.Where(l => l.Contains($"configs/full/{config}.json", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(probes);
            Assert.All(probes, p => Assert.StartsWith($"reproduce probe {task} --config configs/full/{config}.json ", p));
            Assert.All(probes, p => Assert.Contains($"--set data.root={_dir[root]} ", p, StringComparison.Ordinal));
            Assert.All(probes, p => Assert.DoesNotContain("data.dataset=", p, StringComparison.Ordinal));
        }
        Assert.Equal(planned.Count(l => l.StartsWith("reproduce probe ", StringComparison.Ordinal)),
            planned.Count(l => l.StartsWith("reproduce probe ", StringComparison.Ordinal) && l.Contains("--config configs/full/probe-", StringComparison.Ordinal)));
    }
}
