using Reproduce.Torch;
using Reproduce.Training.Config;
using Reproduce.Training.Runs;
using Reproduce.Training.Train;
using Reproduce.Vision.Data.TokenLabels;
using Reproduce.Vision.Data.Transforms;

namespace Reproduce.Training.Tests.Train;

/// <summary>Train-time augmentation in the trainer: aug.* → the timm pipeline, per-sample determinism, resume.</summary>
[Collection(nameof(SerialTests))]
public sealed class TrainAugmentationTests
{
    private static readonly string[] ObjectsModel =
        ["model.name=vit_tiny_scenes64", "model.num_classes=10", "data.dataset=fashion-objects"];

    private static Random[] Rngs(int n, int seed) => Enumerable.Range(0, n).Select(k => new Random(seed * 100 + k)).ToArray();

    [Fact]
    public void AugKeysMapOntoTimmsTrainTransform()
    {
        var config = TrainerTests.Config("aug.randaugment=rand-m7-n3-mstd0.5-inc1", "aug.random_erasing=0.3", "aug.random_erasing_mode=rand",
            "aug.random_erasing_count=2", "aug.hflip=0.25", "aug.scale=[0.5, 0.9]", "aug.ratio=[0.8, 1.25]", "aug.color_jitter=0.3");
        var eval = ClassificationData.Open(config, "test", 4).Eval;
        var t = TrainAugmentation.Create(config.Aug, eval, tokenLabels: false)!;
        Assert.Equal(28, t.ImageSize);
        Assert.Equal((0.5, 0.9), t.Crop.Scale);
        Assert.Equal((0.8, 1.25), t.Crop.Ratio);
        Assert.True(t.Crop.RandomInterpolation);
        Assert.Equal(0.25, t.HFlip);
        Assert.Equal(7, t.AutoAugment!.Magnitude);
        Assert.Equal(3, t.AutoAugment.NumLayers);
        Assert.True(t.AutoAugment.Increasing);
        Assert.Equal([73.0], t.AutoAugment.Fill);                         // round(255 × 0.2860): fashion-mnist's mean, one channel
        Assert.Equal(new ColorJitter(0.3, 0.3, 0.3), t.ColorJitter);
        Assert.Equal(0.3, t.Erasing!.Probability);
        Assert.Equal(Vision.Data.Transforms.ErasingMode.Rand, t.Erasing.Mode);
        Assert.Equal(2, t.Erasing.MaxCount);
        Assert.Equal([0.2860], t.Mean);
        Assert.Equal(TrainOrder.Timm, t.Order);
        Assert.Equal(TrainOrder.TokenLabeling, TrainAugmentation.Create(config.Aug, eval, tokenLabels: true)!.Order);

        var objects = TrainerTests.Config([.. ObjectsModel, "aug.randaugment=rand-m9-mstd0.5-inc1"]);
        var rgb = TrainAugmentation.Create(objects.Aug, ClassificationData.Open(objects, "test", 4).Eval, false)!;
        Assert.Equal(64, rgb.ImageSize);
        Assert.Equal([124.0, 116.0, 104.0], rgb.AutoAugment!.Fill);       // timm's img_mean fill for ImageNet statistics
        Assert.Null(TrainAugmentation.Create(TrainerTests.Config("aug.no_aug=true").Aug, eval, false));
        var bad = Assert.Throws<ConfigException>(() => TrainAugmentation.Create(TrainerTests.Config("aug.randaugment=rand-x9").Aug, eval, false));
        Assert.Equal("aug.randaugment", bad.Key);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TrainBatchIsTheTransformOfEachSampleWithItsOwnGenerator(bool rgb)
    {
        var config = TrainerTests.Config(rgb ? ObjectsModel : ["aug.randaugment=rand-m9-mstd0.5-inc1", "aug.random_erasing=0.5"]);
        var data = ClassificationData.Open(config, "train", 16);
        data = data.WithAugmentation(TrainAugmentation.Create(config.Aug, data.Eval, false));
        using var scope = Scope.Enter();
        int[] idx = [4, 9, 1, 4];
        var (a, ya, _) = data.TrainBatch(idx, Rngs(4, 1));
        var (b, _, _) = data.TrainBatch(idx, Rngs(4, 1));
        var (c, _, _) = data.TrainBatch(idx, Rngs(4, 2));
        var (threaded, yt, _) = data.TrainBatch(idx, Rngs(4, 1), workers: 2);   // data.workers decode; the batch stays the same
        Assert.True(a.Equal(threaded), "data.workers=2 gave a different batch than 0");
        Assert.True(ya.Equal(yt));
        var (plain, yp) = data.Batch(idx);
        long side = rgb ? 64 : 28, chans = rgb ? 3 : 1;
        Assert.Equal([4L, chans, side, side], a.Shape);
        Assert.True(a.Equal(b), "equal generators gave different batches");
        Assert.False(a.Equal(c), "different generators gave the same batch");
        Assert.False(a.Equal(plain), "the augmented batch equals the eval-transformed one");
        Assert.Equal(yp.ToArray<long>(), ya.ToArray<long>());
        // Sample 0 and 3 are the same image with different generators: augmentation is per sample.
        Assert.False(a.Select(0, 0).Equal(a.Select(0, 3)));
        // Sample k is exactly the pipeline applied to the raw image with generator k.
        var raw = rgb
            ? new Vision.Data.FashionScenes.FashionObjects(Vision.Data.FashionMnist.Load("train"), "train", ClassificationData.FashionObjectsSeed).Load(9).Image
            : Tensor.From<byte>(Vision.Data.FashionMnist.Load("train").Images.AsSpan(9 * 784, 784), [1, 28, 28]);
        var expected = data.Augmentation!.Apply(new TransformSample(raw), Rngs(4, 1)[1]).Image;
        Assert.True(a.Select(0, 1).Equal(expected));
    }

    [Fact]
    public void TokenLabelMapsFollowTheCropAndFlipOfTheirSample()
    {
        var config = TrainerTests.Config("aug.scale=[0.3, 0.6]", "aug.hflip=1.0", "aug.color_jitter=0");
        var data = ClassificationData.Open(config, "train", 8);
        data = data.WithAugmentation(TrainAugmentation.Create(config.Aug, data.Eval, tokenLabels: true));
        using var scope = Scope.Enter();
        var maps = Enumerable.Range(0, 2).Select(_ => new TokenLabelMap(Torch.Torch.Rand([2, 4, 4]), Torch.Torch.Zeros([2, 4, 4], ScalarType.Int64))).ToList();
        var (_, _, outMaps) = data.TrainBatch(new[] { 0, 1 }, Rngs(2, 3), maps);
        Assert.NotNull(outMaps);
        foreach (var m in outMaps!)
        {
            Assert.True(m.Flipped);
            Assert.InRange(m.Width * m.Height, 0.3 - 0.05, 0.6 + 0.05);   // the crop's area fraction (up to pixel rounding)
        }
        var (_, _, same) = ClassificationData.Open(config, "train", 8).TrainBatch(new[] { 0, 1 }, Rngs(2, 3), maps);
        Assert.Same(maps, same);                                          // without augmentation the maps pass through
    }

    [Fact]
    public void InterruptedRunWithRandAugmentAndErasingResumesExactlyAndWorkersChangeNothing()
    {
        using var dir = new TempDir();
        var config = TrainerTests.Config("aug.randaugment=rand-m9-mstd0.5-inc1", "aug.random_erasing=0.25", "data.train_limit=96");
        var options = new TrainOptions { LogEvery = 1 };
        var reference = Trainer.Run(config, dir["ref"], options);   // data.workers=2, the default: two decoding threads
        // data.workers changes the time only: decoding on the training thread gives the same run
        var serial = Trainer.Run(TrainerTests.Config("aug.randaugment=rand-m9-mstd0.5-inc1", "aug.random_erasing=0.25", "data.train_limit=96", "data.workers=0"),
            dir["serial"], options);
        Assert.Equal(reference.Final!.ToJsonString(), serial.Final!.ToJsonString());
        Assert.Equal(File.ReadAllText(Path.Combine(dir["ref"], RunDirectory.MetricsFile)), File.ReadAllText(Path.Combine(dir["serial"], RunDirectory.MetricsFile)));
        var first = Trainer.Run(config, dir["run"], options with { StopAfterStep = 5 });
        Assert.Null(first.Final);
        Torch.Torch.ManualSeed(12345);
        var resumed = Trainer.Run(config, dir["run"], options with { Resume = true });
        Assert.Equal(reference.Final!.ToJsonString(), resumed.Final!.ToJsonString());
        Assert.Equal(File.ReadAllText(Path.Combine(dir["ref"], RunDirectory.MetricsFile)), File.ReadAllText(Path.Combine(dir["run"], RunDirectory.MetricsFile)));
        // and augmentation changed the run: the same config with aug.no_aug differs
        var plain = Trainer.Run(TrainerTests.Config("aug.randaugment=rand-m9-mstd0.5-inc1", "aug.random_erasing=0.25", "data.train_limit=96", "aug.no_aug=true"), dir["plain"], options);
        Assert.NotEqual(File.ReadAllText(Path.Combine(dir["ref"], RunDirectory.MetricsFile)), File.ReadAllText(Path.Combine(dir["plain"], RunDirectory.MetricsFile)));
        Assert.NotNull(plain.Final);
    }
}
