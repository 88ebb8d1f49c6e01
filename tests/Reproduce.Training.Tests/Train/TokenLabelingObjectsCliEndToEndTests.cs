using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Training.Train;
using Reproduce.Vision.Data.TokenLabels;

namespace Reproduce.Training.Tests.Train;

/// <summary>
/// Token labeling end to end on fashion-objects (64×64 RGB, the scenes backbone's pretraining data) through the CLI at
/// smoke scale: train the objects annotator (resnet_tiny_objects64) → annotate a few hundred fashion-objects training
/// images into a token-label store (8×8 maps) → train vit_tiny_scenes64 (shrunk) with token labels and MixToken.
/// Each step's outputs are checked, not only its exit code.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class TokenLabelingObjectsCliEndToEndTests
{
    private static string[] Sets(params string[] settings) => settings.SelectMany(s => new[] { "--set", s }).ToArray();

    private const int Annotated = 256;

    private static readonly string[] Common =
    [
        "profile=smoke", "seed=4", "threads=1", "data.dataset=fashion-objects", $"data.train_limit={Annotated}", "data.eval_limit=32",
        "data.batch_size=16", "data.eval_batch_size=32", "aug.mixup=0", "aug.cutmix=0", "aug.randaugment=", "aug.random_erasing=0",
        "aug.no_aug=true", "optim.steps=3", "optim.warmup_steps=1", "optim.lr=0.003", "checkpoint.every_steps=0", "checkpoint.every_epochs=0",
    ];

    [Fact]
    public void ObjectsAnnotatorTrainAnnotateScenesVitTokenLabelTrain()
    {
        using var dir = new TempDir();

        // 1. the annotator: 3-channel input, 10 classes
        var teacher = CliRunner.Run(["train", "--out", dir["teacher"], .. Sets([.. Common, "name=annotator", "model.name=resnet_tiny_objects64"])]);
        Assert.True(teacher.ExitCode == 0, teacher.Stderr);
        var teacherWeights = dir["teacher/" + Trainer.ModelWeightsFile];
        using (Scope.Enter())
        {
            var weights = SafeTensors.Load(teacherWeights);
            Assert.Equal([16L, 3, 3, 3], weights["conv1.weight"].Shape);
            Assert.Equal([10L, 128], weights["fc.weight"].Shape);
        }

        // 2. annotate the training images the student will see, at the scenes ViT's 64×64
        var annotate = CliRunner.Run("annotate", "--model", "resnet_tiny_objects64", "--weights", teacherWeights, "--data", "fashion-objects",
            "--split", "train", "--resolution", "64", "--topk", "3", "--limit", $"{Annotated}", "--out", dir["labels.tls"]);
        Assert.True(annotate.ExitCode == 0, annotate.Stderr);
        using (var store = TokenLabelStore.Open(dir["labels.tls"]))
        {
            Assert.Equal(Annotated, store.Count);
            Assert.Equal(new TokenLabelStoreFormat(3, 8, 8, 10), store.Format);   // vit_tiny_scenes64: patch 8 on 64 → 8×8
            Assert.Equal(Enumerable.Range(0, Annotated).Select(i => TokenLabelTargets.Key("train", i)), store.Keys);
            using var scope = Scope.Enter();
            var map = store.Read(TokenLabelTargets.Key("train", 200));
            Assert.All(map.Values.ToArray<float>(), v => Assert.True(float.IsFinite(v)));
            Assert.All(map.Indices.To(ScalarType.Int64).ToArray<long>(), c => Assert.InRange(c, 0, 9));
        }

        // 3. the student: the scenes backbone with a 10-class head, token labels from the store and MixToken
        var student = CliRunner.Run(["train", "--out", dir["student"], "--log-every", "1", .. Sets([.. Common, "name=student", "model.name=vit_tiny_scenes64",
            "model.num_classes=10", "model.embed_dim=16", "model.depth=1", "model.num_heads=2",
            "token_label.enabled=true", $"token_label.source={dir["labels.tls"]}", "aug.mixtoken=true"])]);
        Assert.True(student.ExitCode == 0, student.Stderr);
        var final = JsonNode.Parse(File.ReadAllText(dir["student/final.json"]))!.AsObject();
        foreach (var key in new[] { "top1", "top5", "steps", "epochs", "eval_samples", "train_samples", "model", "dataset", "seed", "train_loss" })
            Assert.True(final.ContainsKey(key), $"final.json lacks '{key}'");
        Assert.Equal(3, final["steps"]!.GetValue<long>());
        Assert.Equal("vit_tiny_scenes64", final["model"]!.GetValue<string>());
        Assert.Equal("fashion-objects", final["dataset"]!.GetValue<string>());
        Assert.Equal(32, final["eval_samples"]!.GetValue<int>());
        Assert.True(double.IsFinite(final["train_loss"]!.GetValue<double>()));
        Assert.InRange(final["top1"]!.GetValue<double>(), 0, 100);
        using (Scope.Enter())
        {
            var weights = SafeTensors.Load(dir["student/" + Trainer.ModelWeightsFile]);
            Assert.Equal([10L, 16], weights["aux_head.weight"].Shape);        // the token-label head was trained and saved
        }
    }
}
