namespace Reproduce.Scripts.Tests;

/// <summary>
/// The full plan's ADE20K UperNet rows: LV-ViT-S/M/L + UperNet, each `reproduce probe seg` on its committed 160k
/// recipe with the ADE20K root and its ImageNet backbone: S the last weights of the plan's own LV-ViT-S token-labeling
/// (TL + MixToken) run, M and L TokenLabeling's released ImageNet checkpoints in the weights folder; then a second
/// `probe seg` per size that evaluates the trained run's backbone and head with mmseg's multi-scale + flip test.
/// </summary>
public sealed partial class TokenLabelingFullPlanTests
{
    private static string Probe(List<string> planned, string size) =>
        Assert.Single(planned, l => l.StartsWith($"reproduce probe seg --config configs/upernet-lvvit-{size}-ade20k-160k.json ", StringComparison.Ordinal)
            && !l.Contains("probe.test_flip", StringComparison.Ordinal));

    private static string MultiScale(List<string> planned, string size) =>
        Assert.Single(planned, l => l.StartsWith($"reproduce probe seg --config configs/upernet-lvvit-{size}-ade20k-160k.json ", StringComparison.Ordinal)
            && l.Contains("probe.test_flip", StringComparison.Ordinal));

    // The run directory a planned command writes (after "# → ").
    private static string RunDir(string line) => line[(line.IndexOf("# → ", StringComparison.Ordinal) + 4)..].Trim();

    [Fact]
    public void TheUperNetRowsTrainOnAde20kFromTheImageNetBackbones()
    {
        var r = Plan($$"""{ {{Inputs}}, "token-labels": "{{_dir["labels"]}}" }""");
        Assert.True(r.ExitCode == 0, r.ToString());
        var planned = Planned(r);
        Assert.Equal(6, planned.Count(l => l.StartsWith("reproduce probe seg ", StringComparison.Ordinal)));
        var tl = Assert.Single(planned, l => l.StartsWith("reproduce train --config configs/full/lvvit-s-imagenet.json --set profile=full --set name=lvvit-tl-mixtoken ", StringComparison.Ordinal));
        var tlRun = RunDir(tl);
        var expected = new Dictionary<string, string>
        {
            ["s"] = $"{Path.Combine(_dir["results"], tlRun)}/weights-last.safetensors",
            ["m"] = _dir["weights/lvvit_m-56M-224-84.0.pth.tar"],
            ["l"] = _dir["weights/lvvit_l-150M-448-86.2.pth.tar"],
        };
        foreach (var (size, weights) in expected)
        {
            var probe = Probe(planned, size);
            Assert.Contains($"--set data.root={_dir["ade"]} --set model.weights={weights} --set model.norm_eps=1e-06 ", probe, StringComparison.Ordinal);
            Assert.Equal(size == "l", probe.Contains("--set model.skip_lam=1 ", StringComparison.Ordinal));
            // The multi-scale + flip evaluation reads the trained run's backbone and head and trains nothing.
            var ms = MultiScale(planned, size);
            var trained = Path.Combine(_dir["results"], RunDir(probe));
            Assert.Contains($"--set name=upernet-lvvit-{size}-msflip ", ms, StringComparison.Ordinal);
            Assert.Contains($"--set model.weights={trained}/backbone.safetensors --set probe.head_weights={trained}/head.safetensors --set probe.train_backbone=false ",
                ms, StringComparison.Ordinal);
            Assert.Contains("--set probe.test_scales=[0.5,0.75,1,1.25,1.5,1.75] --set probe.test_flip=true ", ms, StringComparison.Ordinal);
            Assert.Equal(size == "l", ms.Contains("--set model.skip_lam=1 ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void AMissingAde20kRootOrReleasedBackboneIsReportedAndStillPlanned()
    {
        File.Delete(_dir["weights/lvvit_l-150M-448-86.2.pth.tar"]);
        var r = Plan($$"""{ "imagenet": "{{_dir["imagenet"]}}", "weights": "{{_dir["weights"]}}", "token-labels": "{{_dir["labels"]}}" }""");
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("ade20k: not configured (set REPRODUCE_ADE20K", r.Stdout, StringComparison.Ordinal);
        Assert.Contains($"lvvit_l-150M-448-86.2.pth.tar (LV-ViT-L @448, for LV-ViT-L + UperNet backbone): not in the weights folder {_dir["weights"]}; download https://github.com/zihangJiang/TokenLabeling/releases/download/1.0/lvvit_l-150M-448-86.2.pth.tar",
            r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("lvvit_m-56M-224-84.0.pth.tar (", r.Stdout, StringComparison.Ordinal);
        var planned = Planned(r);
        Assert.All(new[] { "s", "m", "l" }, size => Assert.Contains("--set data.root=$REPRODUCE_ADE20K ", Probe(planned, size), StringComparison.Ordinal));
        Assert.Contains($"--set model.weights={_dir["weights/lvvit_l-150M-448-86.2.pth.tar"]} ", Probe(planned, "l"), StringComparison.Ordinal);
    }
}
