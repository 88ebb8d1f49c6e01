using System.Text.Json.Nodes;
using Reproduce.Torch.IO;
using Reproduce.Training.Config;
using Reproduce.Training.Probes;
using Reproduce.Training.Runs;
using Reproduce.Training.Train;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>
/// <c>reproduce train</c> with <c>ssl.method=dinov2</c> at smoke scale: a D-16 one-block ViT on 32 fashion-objects
/// images at 32 px (two global crops of 32, two local crops of 16, 4×4 patches of 8), batch 4, 6 steps.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class DinoV2TrainRunTests
{
    /// <summary>The smoke run; drop path 0.1 draws from the default generator, which a resume must restore.</summary>
    internal static readonly string[] Smoke =
    [
        "name=dino-smoke", "profile=smoke", "seed=3", "threads=1", "ssl.method=dinov2",
        "model.name=vit_tiny_scenes64", "model.embed_dim=16", "model.depth=1", "model.num_heads=2", "model.img_size=32",
        "model.patch_size=8", "model.drop_path_rate=0.1",
        "data.dataset=fashion-objects", "data.train_limit=32", "data.eval_limit=24", "data.batch_size=4", "data.eval_batch_size=16", "data.workers=0",
        "optim.steps=6", "optim.warmup_steps=2", "optim.lr=0.002", "optim.min_lr=1e-6", "optim.weight_decay=0.04", "optim.grad_clip=3.0",
        "optim.layer_decay=0.9",
        "ssl.epoch_length=2", "ssl.warmup_teacher_temp_epochs=1", "ssl.freeze_last_layer_epochs=1", "ssl.head_prototypes=32",
        "ssl.head_hidden_dim=16", "ssl.head_bottleneck_dim=8", "ssl.local_crops=2", "ssl.local_crop_size=16", "ssl.knn_k=5",
        "checkpoint.every_steps=2", "checkpoint.every_epochs=0",
    ];

    private static RunConfig Config(params string[] extra) => RunConfig.Load((string?)null, [.. Smoke, .. extra]);

    private static TrainResult Train(RunConfig config, string dir, TrainOptions? options = null) =>
        Trainer.Run(config, dir, (options ?? new TrainOptions()) with { LogEvery = 1 });

    private static string Metrics(string dir) => File.ReadAllText(Path.Combine(dir, RunDirectory.MetricsFile));

    [Fact]
    public void ARunLogsEveryTermExportsTheTeacherInTimmKeysAndScoresItsKnn()
    {
        using var dir = new TempDir();
        var config = Config();
        var result = Train(config, dir["run"]);
        var final = result.Final!;
        Assert.InRange(final["knn_top1"]!.GetValue<double>(), 0, 100);
        Assert.Equal(5, final["knn_k"]!.GetValue<int>());
        Assert.InRange(final["linear_top1"]!.GetValue<double>(), 0, 100);
        Assert.Equal(10, final["linear_epochs"]!.GetValue<int>());
        Assert.Equal(24, final["eval_samples"]!.GetValue<int>());
        Assert.Equal(6, final["steps"]!.GetValue<long>());
        Assert.Equal(3, final["epochs"]!.GetValue<long>());
        var lines = Metrics(dir["run"]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(6, lines.Count);
        foreach (var key in new[] { "train_loss", "dino_local", "dino_global", "koleo", "ibot", "lr", "wd", "momentum", "teacher_temp", "last_layer_lr" })
            Assert.All(lines, l => Assert.True(double.IsFinite(l[key]!.GetValue<double>()), $"{key} in {l.ToJsonString()}"));
        // the schedules as configured: lr warm-up from 0 over 2 steps, the last layer frozen for the first epoch
        // (2 steps), the teacher temperature warmed up over 1 epoch, momentum 0.992 → 1
        Assert.Equal(0.0, lines[0]["lr"]!.GetValue<double>());
        Assert.Equal(0.002, lines[1]["lr"]!.GetValue<double>(), 12);
        Assert.Equal([0.0, 0.0], lines.Take(2).Select(l => l["last_layer_lr"]!.GetValue<double>()));
        Assert.Equal(lines[2]["lr"]!.GetValue<double>(), lines[2]["last_layer_lr"]!.GetValue<double>());
        Assert.Equal(0.04, lines[0]["teacher_temp"]!.GetValue<double>(), 12);
        Assert.Equal(0.07, lines[5]["teacher_temp"]!.GetValue<double>(), 12);
        Assert.Equal(0.992, lines[0]["momentum"]!.GetValue<double>(), 12);

        // the exported file is the teacher backbone by timm key: what probe and analyze load (BackboneWeights)
        var weights = Path.Combine(dir["run"], Trainer.ModelWeightsFile);
        using var scope = Scope.Enter();
        var entry = ModelSection.Resolve("vit_tiny_scenes64", ["embed_dim=16", "depth=1", "num_heads=2", "img_size=32", "patch_size=8"]);
        using var vit = new VisionTransformer((VitConfig)entry.Config);
        var skipped = BackboneWeights.Load(vit, weights);
        Assert.Empty(skipped);
        var saved = SafeTensors.Load(weights);
        Assert.Equal(vit.StateDict().Keys.Order(), saved.Keys.Order());
        Assert.Contains("blocks.0.attn.qkv.weight", saved.Keys);
        Assert.DoesNotContain(saved.Keys, k => k.Contains("head", StringComparison.Ordinal) || k.Contains("mask_token", StringComparison.Ordinal));
        // the teacher is the EMA, not the student: the checkpoint holds both, and the export equals its teacher
        using var ckpt = new Reproduce.Training.Checkpoints.CheckpointStore(Path.Combine(dir["run"], RunDirectory.CheckpointsDir)).LoadLast()!;
        var teacher = ckpt.ModelState["teacher.backbone.blocks.0.attn.qkv.weight"];
        var student = ckpt.ModelState["student.backbone.blocks.0.attn.qkv.weight"];
        Assert.Equal(teacher.ToArray<float>(), saved["blocks.0.attn.qkv.weight"].ToArray<float>());
        Assert.NotEqual(student.ToArray<float>(), teacher.ToArray<float>());
        Assert.Contains("dino_center", ckpt.ModelState.Keys);
        Assert.Contains("ibot_center", ckpt.ModelState.Keys);
        // `reproduce weights --from RUN` exports the same teacher backbone from the last checkpoint
        var exported = Reproduce.Training.Checkpoints.WeightsExport.Export(dir["run"], Reproduce.Training.Checkpoints.WeightsCheckpoint.Last, false, dir["w.safetensors"]);
        var fromCheckpoint = SafeTensors.Load(exported.File);
        Assert.Equal(saved.Keys.Order(), fromCheckpoint.Keys.Order());
        foreach (var (key, t) in saved) Assert.True(t.Equal(fromCheckpoint[key]), key);
        // and `reproduce eval --from RUN` says why it cannot score it
        var e = Assert.Throws<ConfigException>(() => EvalRun.Run(config, dir["run"], dir["eval"]));
        Assert.Contains("knn_top1", e.Message);
    }

    [Theory]
    [InlineData(3, "ssl.centering=ema", 0)]             // stopped one step after the checkpoint of step 2: step 3's line is dropped
    [InlineData(4, "ssl.centering=sinkhorn_knopp", 2)]  // stopped at a checkpoint; batches built ahead on a loader thread
    public void AnInterruptedAndResumedRunEndsByteIdenticalToTheUninterruptedOne(int stopAt, string centering, int workers)
    {
        using var dir = new TempDir();
        var config = Config(centering, $"data.workers={workers}");
        var reference = Train(config, dir["ref"]);
        if (workers > 0)
        {
            // the loader thread and the cropping threads change nothing
            Train(Config(centering, "data.workers=0"), dir["inline"]);
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir["ref"], Trainer.ModelWeightsFile)), File.ReadAllBytes(Path.Combine(dir["inline"], Trainer.ModelWeightsFile)));
        }

        var first = Train(config, dir["run"], new TrainOptions { StopAfterStep = stopAt });
        Assert.Null(first.Final);
        Assert.False(first.Run.IsFinished);
        Assert.Throws<InvalidOperationException>(() => Train(config, dir["run"])); // checkpoints without --resume
        Torch.Torch.ManualSeed(999);                             // the new "process" starts from another generator state
        var resumed = Train(config, dir["run"], new TrainOptions { Resume = true });

        Assert.Equal(reference.Final!.ToJsonString(), resumed.Final!.ToJsonString());
        Assert.Equal(Metrics(dir["ref"]), Metrics(dir["run"]));
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir["ref"], Trainer.ModelWeightsFile)), File.ReadAllBytes(Path.Combine(dir["run"], Trainer.ModelWeightsFile)));
    }
}
