using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Training.Annotation;
using Reproduce.Training.Train;
using Reproduce.Vision.Data.TokenLabels;

namespace Reproduce.Training.Tests.Train;

/// <summary>
/// Token labeling end to end through the CLI at smoke scale: train the ResNet annotator → annotate Fashion-MNIST into
/// a token-label store → train an LV-ViT with token labels and MixToken from that store → evaluate the run.
/// Each step's outputs are checked, not only its exit code.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class TokenLabelingCliEndToEndTests
{
    private static string[] Sets(params string[] settings) => settings.SelectMany(s => new[] { "--set", s }).ToArray();

    private static readonly string[] Common =
    [
        "profile=smoke", "seed=4", "threads=1", "data.dataset=fashion-mnist", "data.train_limit=64", "data.eval_limit=32",
        "data.batch_size=16", "data.eval_batch_size=32", "aug.mixup=0", "aug.cutmix=0", "aug.randaugment=", "aug.random_erasing=0",
        "optim.steps=4", "optim.warmup_steps=1", "optim.lr=0.003", "checkpoint.every_steps=2", "checkpoint.every_epochs=0",
    ];

    [Fact]
    public void AnnotatorTrainAnnotateTokenLabelTrainEval()
    {
        using var dir = new TempDir();

        // 1. the annotator
        var teacher = CliRunner.Run(["train", "--out", dir["teacher"], .. Sets([.. Common, "name=annotator", "model.name=resnet_tiny_fm28"])]);
        Assert.True(teacher.ExitCode == 0, teacher.Stderr);
        var teacherWeights = dir["teacher/" + Trainer.ModelWeightsFile];
        using (Scope.Enter())
            Assert.Equal([10L, 128], SafeTensors.Load(teacherWeights)["fc.weight"].Shape);

        // 2. annotate the 64 training images the student will see
        var annotate = CliRunner.Run("annotate", "--model", "resnet_tiny_fm28", "--weights", teacherWeights, "--data", "fashion-mnist",
            "--split", "train", "--resolution", "28", "--topk", "3", "--limit", "64", "--out", dir["labels.tls"]);
        Assert.True(annotate.ExitCode == 0, annotate.Stderr);
        using (var store = TokenLabelStore.Open(dir["labels.tls"]))
        {
            Assert.Equal(64, store.Count);
            Assert.Equal(new TokenLabelStoreFormat(3, 4, 4, 10), store.Format);
            Assert.Equal(Enumerable.Range(0, 64).Select(i => TokenLabelTargets.Key("train", i)), store.Keys);
            Assert.Equal(Annotator.FashionMnistKey("train", 7), TokenLabelTargets.Key("train", 7));
            using var scope = Scope.Enter();
            var map = store.Read(TokenLabelTargets.Key("train", 5));
            var values = map.Values.ToArray<float>();
            var classes = map.Indices.ToArray<long>();
            Assert.All(values, v => Assert.True(float.IsFinite(v)));
            Assert.All(classes, c => Assert.InRange(c, 0, 9));
            // top-k per cell: descending scores over k, distinct classes
            for (var cell = 0; cell < 16; cell++)
            {
                Assert.True(values[cell] >= values[16 + cell] && values[16 + cell] >= values[32 + cell]);
                Assert.Equal(3, new[] { classes[cell], classes[16 + cell], classes[32 + cell] }.Distinct().Count());
            }
        }

        // 3. the student: LV-ViT recipe with token labels from the store and MixToken
        var student = CliRunner.Run(["train", "--out", dir["student"], "--log-every", "1", .. Sets([.. Common, "name=student", "model.name=lvvit_tiny_fm28",
            "model.embed_dim=16", "model.depth=1", "model.num_heads=2", "model.stem_channels=8",
            "token_label.enabled=true", $"token_label.source={dir["labels.tls"]}", "aug.mixtoken=true"])]);
        Assert.True(student.ExitCode == 0, student.Stderr);
        var final = JsonNode.Parse(File.ReadAllText(dir["student/final.json"]))!.AsObject();
        Assert.Equal(final.ToJsonString(), JsonNode.Parse(student.LastJson().GetRawText())!.ToJsonString());   // what the CLI printed
        foreach (var key in new[] { "top1", "top5", "steps", "epochs", "eval_samples", "train_samples", "model", "dataset", "seed", "train_loss" })
            Assert.True(final.ContainsKey(key), $"final.json lacks '{key}'");
        Assert.Equal(4, final["steps"]!.GetValue<long>());
        Assert.Equal("lvvit_tiny_fm28", final["model"]!.GetValue<string>());
        Assert.True(double.IsFinite(final["train_loss"]!.GetValue<double>()));
        var lossLines = File.ReadAllLines(dir["student/metrics.jsonl"]).Select(l => JsonNode.Parse(l)!).Where(n => n["train_loss"] is not null).ToList();
        Assert.Equal(4, lossLines.Count);
        using (Scope.Enter())
        {
            var student_ = SafeTensors.Load(dir["student/" + Trainer.ModelWeightsFile]);
            Assert.Equal([10L, 16], student_["aux_head.weight"].Shape);        // the token-label head was trained and saved
        }

        // 4. eval of the run's last checkpoint scores exactly what the run reported
        var eval = CliRunner.Run("eval", "--from", dir["student"], "--checkpoint", "last", "--out", dir["eval"]);
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        var evalFinal = JsonNode.Parse(File.ReadAllText(dir["eval/final.json"]))!;
        Assert.Equal(final["top1"]!.GetValue<double>(), evalFinal["top1"]!.GetValue<double>());
        Assert.Equal(final["top5"]!.GetValue<double>(), evalFinal["top5"]!.GetValue<double>());
        Assert.Equal(final["eval_samples"]!.GetValue<int>(), evalFinal["eval_samples"]!.GetValue<int>());
        Assert.Equal(4, evalFinal["checkpoint_step"]!.GetValue<long>());
    }
}
