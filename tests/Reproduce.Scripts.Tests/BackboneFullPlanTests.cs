namespace Reproduce.Scripts.Tests;

/// <summary>
/// The full plans built on scripts/Backbone.fsx (here specialization.fsx, which probes all three dense tasks): every
/// pretraining reads its recipe's committed config (DINOv2's for every variant, DeiT III's 192-px pretraining then its
/// 224-px fine-tuning from those weights for the main variants) and every probe its task's configs/full/probe-*.json,
/// plus the backbone's weights, the recipe's model, its model options and the dataset root.
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
        Assert.All(trains, t => Assert.Contains($"--set data.root={_dir["imagenet"]} ", t, StringComparison.Ordinal));
        var dinov2 = trains.Where(t => t.StartsWith("reproduce train --config configs/dinov2-vit-b14-in1k-short.json --set profile=full --set name=pretrain-dinov2-", StringComparison.Ordinal)).ToList();
        var deit3 = trains.Where(t => t.StartsWith("reproduce train --config configs/deit3-vit-b16-in1k-400ep.json --set profile=full --set name=pretrain-deit3-", StringComparison.Ordinal)).ToList();
        var finetunes = trains.Where(t => t.StartsWith("reproduce train --config configs/deit3-vit-b16-in1k-ft224.json --set profile=full --set name=finetune-deit3-", StringComparison.Ordinal)).ToList();
        Assert.Equal(trains.Count, dinov2.Count + deit3.Count + finetunes.Count);
        Assert.Equal(9, dinov2.Count); // baseline, norm, norm + QKV and six ablations, one seed
        Assert.Equal(3, deit3.Count);  // the main variants
        // each fine-tuning starts from the last weights of its own variant's 192-px pretraining
        foreach (var pre in deit3)
        {
            var run = pre[(pre.IndexOf("# → ", StringComparison.Ordinal) + 4)..].Trim();
            var variant = run["full/backbones/runs/pretrain-deit3-".Length..run.LastIndexOf("-s0-", StringComparison.Ordinal)];
            var ft = Assert.Single(finetunes, f => f.Contains($"--set name=finetune-deit3-{variant} ", StringComparison.Ordinal));
            Assert.Contains($"--set model.weights={Path.Combine(_dir["results"], run)}/weights-last.safetensors ", ft, StringComparison.Ordinal);
        }
        var probesAll = planned.Where(l => l.StartsWith("reproduce probe ", StringComparison.Ordinal)).ToList();
        Assert.All(probesAll.Where(p => p.Contains("--set name=seg-dinov2-", StringComparison.Ordinal) || p.Contains("depth-dinov2-", StringComparison.Ordinal)),
            p => Assert.Contains("--set model.name=vit_base_patch14_dinov2 ", p, StringComparison.Ordinal));
        Assert.All(probesAll.Where(p => p.Contains("-deit3-", StringComparison.Ordinal)),
            p => Assert.Contains("--set model.name=vit_base_patch16_224 ", p, StringComparison.Ordinal));
        Assert.All(probesAll.Where(p => p.Contains("-deit3-", StringComparison.Ordinal)),
            p => Assert.Contains("--set model.init_values=0.0001 --set model.no_embed_class=true ", p, StringComparison.Ordinal));
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
