using System.Text.Json.Nodes;
using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Training.Config;
using Reproduce.Training.Train;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Training.Tests.Train;

/// <summary>data.dataset=imagenet on a tiny generated JPEG class-folder tree: transforms, errors, train → eval through the CLI.</summary>
[Collection(nameof(SerialTests))]
public sealed class ImageNetTrainingTests : IDisposable
{
    private static readonly string[] Wnids = ["n01440764", "n01443537"];
    private readonly TempDir _dir = new();

    public ImageNetTrainingTests()
    {
        // Two classes, non-square images of different sizes, so the eval resize and crop do something.
        var rng = new Random(5);
        foreach (var (split, n) in new[] { ("train", 4), ("val", 2) })
            foreach (var (wnid, c) in Wnids.Select((w, c) => (w, c)))
                for (var i = 0; i < n; i++)
                {
                    int h = 40 + rng.Next(20), w = 36 + rng.Next(30);
                    var px = new byte[3 * h * w];
                    for (var k = 0; k < px.Length; k++) px[k] = (byte)(c == 0 ? rng.Next(100) : 155 + rng.Next(100));
                    using var scope = Scope.Enter();
                    var jpeg = ImageCodec.EncodeJpeg(Tensor.From<byte>(px, [3, h, w]), 95);
                    var path = _dir[$"in/{split}/{wnid}/{wnid}_{i}.JPEG"];
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.WriteAllBytes(path, jpeg);
                }
    }

    public void Dispose() => _dir.Dispose();

    private string[] Settings(string model = "vit_tiny_scenes64") =>
    [
        "name=in-smoke", "profile=smoke", "seed=2", "threads=1", $"model.name={model}", "model.num_classes=2",
        "model.embed_dim=16", "model.depth=1", "model.num_heads=2", "model.img_size=32",
        "data.dataset=imagenet", $"data.root={_dir["in"]}", "data.batch_size=4", "data.eval_batch_size=4",
        "aug.mixup=0", "aug.cutmix=0", "aug.randaugment=rand-m9-mstd0.5-inc1", "aug.random_erasing=0.25",
        "optim.steps=2", "optim.warmup_steps=1", "checkpoint.every_steps=1", "checkpoint.every_epochs=0",
    ];

    [Fact]
    public void EvalBatchIsTheModelsEvalTransformOfTheDecodedJpeg()
    {
        // deit: timm's config, crop_pct 0.9 bicubic (docs/protocols.md §1.3); at img_size 32 → resize the shorter side to 35, crop 32.
        var config = RunConfig.Load((string?)null, [.. Settings("deit_tiny_patch16_224"), "model.patch_size=8"]);
        var data = ClassificationData.Open(config, ClassificationData.DefaultEvalSplit(config.Data), null);
        Assert.Equal("imagenet/val", data.Name);
        Assert.Equal(4, data.Count);
        Assert.Equal(2, data.NumClasses);
        Assert.Equal((0.9, InterpolationMode.Bicubic, 32, 35), (data.Eval.CropPct, data.Eval.Interpolation, data.Eval.Size, data.Eval.ScaleSize));
        using var scope = Scope.Enter();
        var (x, y) = data.Batch(new[] { 0, 3 });
        Assert.Equal([2L, 3, 32, 32], x.Shape);
        Assert.Equal([0L, 1], y.ToArray<long>());               // sorted wnids → 0, 1; files sorted within a class
        var file = _dir[$"in/val/{Wnids[1]}/{Wnids[1]}_1.JPEG"];
        var decoded = ImageCodec.DecodeFile(file, ImageReadMode.Rgb, ImageLayout.Chw, 35, 35);
        var expected = Normalize.Apply(Geometry.CenterCrop(Geometry.ResizeShorter(decoded, 35, InterpolationMode.Bicubic), 32, 32));
        Assert.True(x.Select(0, 1).AllClose(expected, 1e-5, 1e-5));

        // data.crop_pct / data.interpolation override the model's
        var overridden = ClassificationData.Open(RunConfig.Load((string?)null, [.. Settings(), "data.crop_pct=0.5", "data.interpolation=nearest"]), "val", null);
        Assert.Equal((0.5, InterpolationMode.Nearest, 64), (overridden.Eval.CropPct, overridden.Eval.Interpolation, overridden.Eval.ScaleSize));
    }

    [Fact]
    public void MissingOrBrokenRootIsAClearError()
    {
        var noRoot = Assert.Throws<ConfigException>(() => ClassificationData.Open(
            RunConfig.Load((string?)null, [.. Settings().Where(s => !s.StartsWith("data.root", StringComparison.Ordinal))]), "train", null));
        Assert.Equal("data.root", noRoot.Key);
        Assert.Contains("train/ and val/", noRoot.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<DirectoryNotFoundException>(() => ClassificationData.Open(RunConfig.Load((string?)null, [.. Settings(), $"data.root={_dir["nope"]}"]), "train", null));
        Assert.Contains(_dir["nope"], missing.Message, StringComparison.Ordinal);
        File.WriteAllText(_dir[$"in/val/loose.JPEG"], "x");
        var loose = Assert.Throws<InvalidDataException>(() => ClassificationData.Open(RunConfig.Load((string?)null, Settings()), "val", null));
        Assert.Contains("loose.JPEG", loose.Message, StringComparison.Ordinal);
        File.Delete(_dir[$"in/val/loose.JPEG"]);
    }

    [Fact]
    public void LvVitTrainsPlainlyFromItsNameWithoutTokenLabels()
    {
        // lvvit_s has mix_token and the aux head on in the registry (TokenLabeling's defaults); without token labels
        // the trainer turns MixToken off and trains the prediction (class + 0.5 · max aux logits). Shrunk for speed.
        var train = CliRunner.Run(["train", "--out", _dir["lvvit"], .. Settings("lvvit_s").SelectMany(s => new[] { "--set", s })]);
        Assert.True(train.ExitCode == 0, train.Stderr);
        var final = JsonNode.Parse(File.ReadAllText(_dir["lvvit/final.json"]))!;
        Assert.Equal("lvvit_s", final["model"]!.GetValue<string>());
        Assert.Equal(2, final["steps"]!.GetValue<int>());
        Assert.True(double.IsFinite(final["train_loss"]!.GetValue<double>()));
    }

    [Fact]
    public void TrainThenEvalThroughTheCliScoresTheValSplit()
    {
        var train = CliRunner.Run(["train", "--out", _dir["run"], .. Settings().SelectMany(s => new[] { "--set", s })]);
        Assert.True(train.ExitCode == 0, train.Stderr);
        var final = JsonNode.Parse(File.ReadAllText(_dir["run/final.json"]))!;
        Assert.Equal("imagenet", final["dataset"]!.GetValue<string>());
        Assert.Equal(4, final["eval_samples"]!.GetValue<int>());
        Assert.Equal(8, final["train_samples"]!.GetValue<int>());
        var eval = CliRunner.Run("eval", "--from", _dir["run"], "--checkpoint", "last", "--out", _dir["eval"]);
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        var evalFinal = JsonNode.Parse(File.ReadAllText(_dir["eval/final.json"]))!;
        Assert.Equal(final["top1"]!.GetValue<double>(), evalFinal["top1"]!.GetValue<double>());
        Assert.Equal(4, evalFinal["eval_samples"]!.GetValue<int>());
    }
}
