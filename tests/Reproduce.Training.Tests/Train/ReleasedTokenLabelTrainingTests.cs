using System.Text.Json.Nodes;
using Reproduce.Torch.IO;
using Reproduce.Vision.Data.TokenLabels;

namespace Reproduce.Training.Tests.Train;

/// <summary>
/// The full profile's token-label source: a folder in TokenLabeling's released layout (stand-ins from
/// tests/fixtures/gen_token_labels.py, torch.save'd as generate_label.py writes them) checked by
/// <c>reproduce data check token-labels</c> and read by <c>reproduce train</c> for LV-ViT on an ImageNet-layout tree.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class ReleasedTokenLabelTrainingTests : IDisposable
{
    private static readonly string[] Wnids = ["n01440764", "n01443537", "n01484850", "n01491361", "n01494475", "n01496331"];
    private readonly TempDir _dir = new();

    public ReleasedTokenLabelTrainingTests()
    {
        var fixtures = Path.Combine(AppContext.BaseDirectory, "fixtures", "token-labels", OfficialTokenLabels.FolderName);
        var rng = new Random(3);
        foreach (var (wnid, c) in Wnids.Select((w, c) => (w, c)))
        {
            foreach (var split in new[] { "train", "val" })
            {
                int h = 40 + rng.Next(20), w = 36 + rng.Next(30);
                var px = new byte[3 * h * w];
                for (var k = 0; k < px.Length; k++) px[k] = (byte)(c * 40 + rng.Next(40));
                using var scope = Scope.Enter();
                var path = _dir[$"in/{split}/{wnid}/{wnid}_0.JPEG"];
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, ImageCodec.EncodeJpeg(Tensor.From<byte>(px, [3, h, w]), 95));
            }
            Directory.CreateDirectory(_dir[$"labels/{wnid}"]);
            File.Copy(Path.Combine(fixtures, wnid, $"{wnid}_0.pt"), _dir[$"labels/{wnid}/{wnid}_0.pt"]);
        }
    }

    public void Dispose() => _dir.Dispose();

    private string[] Train(string outDir) =>
    [
        "train", "--out", _dir[outDir],
        .. new[]
        {
            "name=tl-released", "profile=smoke", "seed=1", "threads=1", "model.name=lvvit_s", "model.num_classes=6",
            "model.embed_dim=16", "model.depth=1", "model.num_heads=2", "model.img_size=32",
            "data.dataset=imagenet", $"data.root={_dir["in"]}", "data.batch_size=3", "data.eval_batch_size=6",
            "aug.mixup=0", "aug.cutmix=0", "aug.randaugment=rand-m9-mstd0.5-inc1", "aug.mixtoken=true",
            "token_label.enabled=true", $"token_label.source={_dir["labels"]}",
            "optim.steps=3", "optim.warmup_steps=1", "checkpoint.every_steps=0", "checkpoint.every_epochs=0",
        }.SelectMany(s => new[] { "--set", s }),
    ];

    [Fact]
    public void DataCheckPassesTheStandIns()
    {
        var r = CliRunner.Run("data", "check", "token-labels", "--root", _dir["labels"], "--images", _dir["in"]);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Contains("images with a label file: 6 of 6", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("result: ok", r.Stdout, StringComparison.Ordinal);

        File.Delete(_dir[$"labels/{Wnids[4]}/{Wnids[4]}_0.pt"]);
        var missing = CliRunner.Run("data", "check", "token-labels", "--root", _dir["labels"], "--images", _dir["in"]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains(_dir[$"labels/{Wnids[4]}/{Wnids[4]}_0.pt"] + ": missing", missing.Stdout, StringComparison.Ordinal);

        var noImages = CliRunner.Run("data", "check", "token-labels", "--root", _dir["labels"]);
        Assert.Equal(2, noImages.ExitCode);
        Assert.Contains("--images", noImages.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void LvVitTrainsAFewStepsOnTheReleasedLayout()
    {
        var r = CliRunner.Run(Train("run"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var final = JsonNode.Parse(File.ReadAllText(_dir["run/final.json"]))!;
        Assert.Equal(3, final["steps"]!.GetValue<int>());
        Assert.Equal(6, final["train_samples"]!.GetValue<int>());
        Assert.True(double.IsFinite(final["train_loss"]!.GetValue<double>()));

        // Samples are looked up by their relative path, as the release names its files: a missing one is named.
        File.Delete(_dir[$"labels/{Wnids[1]}/{Wnids[1]}_0.pt"]);
        var missing = CliRunner.Run(Train("run-missing"));
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains($"{Wnids[1]}/{Wnids[1]}_0", missing.Stderr, StringComparison.Ordinal);
    }
}
