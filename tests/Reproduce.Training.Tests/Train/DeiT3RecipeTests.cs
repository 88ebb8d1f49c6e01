using Reproduce.Torch;
using Reproduce.Torch.IO;
using Reproduce.Training.Config;
using Reproduce.Training.Train;
using Reproduce.Vision.Data.Loading;
using Reproduce.Vision.Data.Transforms;
using Reproduce.Vision.Models;
using Reproduce.Vision.Models.Layers;
using static Reproduce.Training.Tests.Pretraining.SslFixture;

namespace Reproduce.Training.Tests.Train;

/// <summary>
/// DeiT III's recipe keys in the trainer: <c>data.repeated_aug</c> (the trainer's epoch order is DeiT's RASampler, against
/// tests/fixtures/ssl/rasampler.json from Debian's PyTorch) and <c>aug.three_augment</c> (the train pipeline is 3-Augment).
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class DeiT3RecipeTests
{
    private static LoaderOptions Loader(int batch, int world, int rank) =>
        new() { BatchSize = batch, Seed = 0, LastBatch = LastBatch.Drop, WorldSize = world, Rank = rank, DropUnevenShard = false };

    [Fact]
    public void RepeatedAugTrainerOrderIsTheReferenceRaSamplersForEveryWorldSizeAndRank()
    {
        const int batch = 32;
        var cases = Load("rasampler").GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("shuffle").GetBoolean()).ToList();
        Assert.NotEmpty(cases);
        foreach (var c in cases)
        {
            var (n, world, rank, epoch) = (c.GetProperty("n").GetInt32(), c.GetProperty("world").GetInt32(), c.GetProperty("rank").GetInt32(), c.GetProperty("epoch").GetInt32());
            var config = TrainerTests.Config($"data.repeated_aug={c.GetProperty("repeats").GetInt32()}", "seed=0", $"data.batch_size={batch}");
            var expected = Longs(c.GetProperty("indices"));
            var loader = Loader(batch, world, rank);
            Assert.Equal(expected.Length, TrainSampling.SamplesPerEpoch(config, n, loader, shardCount: -1));
            var plan = TrainSampling.Plan(config, n, epoch, loader);
            Assert.Equal(expected.Length / batch, plan.Batches.Count);
            Assert.All(plan.Batches, b => Assert.Equal(batch, b.Length));
            // the last partial batch is dropped, as DeiT's DataLoader(drop_last=True)
            Assert.True(expected.Take(plan.Batches.Count * batch).SequenceEqual(plan.Batches.SelectMany(b => b).Select(s => (long)s.Index)),
                $"n={n} world={world} rank={rank} epoch={epoch}: the trainer's indices differ from the reference RASampler's");
        }
    }

    [Fact]
    public void WithoutRepeatedAugTheOrderAndHashAreUnchanged()
    {
        var config = TrainerTests.Config("data.batch_size=16");
        var loader = Loader(16, 2, 1);
        var plan = TrainSampling.Plan(config, 300, 3, loader);
        var reference = EpochPlan.Create(300, 3, loader);
        Assert.Equal(reference.Batches.SelectMany(b => b), plan.Batches.SelectMany(b => b));
        Assert.Equal(150, TrainSampling.SamplesPerEpoch(config, 300, loader, 150));
        var json = config.ToCanonicalJson();
        Assert.DoesNotContain("repeated_aug", json, StringComparison.Ordinal);
        Assert.DoesNotContain("three_augment", json, StringComparison.Ordinal);
        var on = TrainerTests.Config("data.batch_size=16", "data.repeated_aug=3", "aug.three_augment=true");
        Assert.Contains("\"repeated_aug\":3", on.ToCanonicalJson(), StringComparison.Ordinal);
        Assert.Contains("\"three_augment\":true", on.ToCanonicalJson(), StringComparison.Ordinal);
        Assert.NotEqual(config.Hash(), on.Hash());
    }

    [Fact]
    public void BadRepeatedAugIsRefusedNamingTheKey()
    {
        var e = Assert.Throws<ConfigException>(() => TrainerTests.Config("data.repeated_aug=-1"));
        Assert.Contains("repeated_aug", e.Message, StringComparison.Ordinal);
        // fashion-mnist limited to 200 images: an RA epoch keeps ⌊200/256⌋·256 = 0 samples
        using var dir = new TempDir();
        var tiny = TrainerTests.Config("data.repeated_aug=3", "data.train_limit=200", "data.batch_size=8");
        var t = Assert.Throws<ConfigException>(() => Trainer.Run(tiny, dir["run"]));
        Assert.Contains("data.repeated_aug", t.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThreeAugmentKeyMakesTheTrainPipelineDeiT3s()
    {
        var config = TrainerTests.Config("aug.three_augment=true", "aug.color_jitter=0.3");
        var eval = new EvalTransform(24) { Mean = [0.5, 0.4, 0.3], Std = [0.2, 0.25, 0.3] };
        var t = TrainAugmentation.Create(config.Aug, eval, tokenLabels: false)!;
        var reference = new ThreeAugment(24) { ColorJitter = 0.3, Mean = eval.Mean, Std = eval.Std };
        Assert.Equal(reference, t.ThreeAugment);
        var bytes = Enumerable.Range(0, 3 * 40 * 48).Select(i => (byte)(i * 37 % 251)).ToArray();
        using var scope = Scope.Enter();
        var image = Tensor.From<byte>(bytes, [3, 40, 48]);
        for (var seed = 0; seed < 6; seed++)
        {
            // no RandAugment, jitter or erasing of the timm path: 3-Augment's draws and output, bit for bit
            var got = t.Apply(new TransformSample(image), new Random(seed)).Image.ToArray<float>();
            var want = reference.Apply(new TransformSample(image), new Random(seed)).Image.ToArray<float>();
            Assert.Equal(want, got);
            Assert.Equal(3 * 24 * 24, got.Length);
        }
        var e = Assert.Throws<ConfigException>(() => TrainAugmentation.Create(config.Aug, eval, tokenLabels: true));
        Assert.Equal("aug.three_augment", e.Key);
    }

    [Fact]
    public void FineTuningAtAnotherResolutionResamplesThePositionEmbedding()
    {
        // DeiT III pretrains at 192 and fine-tunes at 224: model.weights from the smaller grid loads into the larger one
        using var dir = new TempDir();
        Torch.Torch.ManualSeed(1);
        using var source = ModelRegistry.CreateVit("vit_tiny_fm28", c => c with { Depth = 1, EmbedDim = 16, NumHeads = 2, ImgSize = 16 });
        SafeTensors.SaveModule(dir["w.safetensors"], source);
        Torch.Torch.ManualSeed(2);
        using var target = ModelRegistry.CreateVit("vit_tiny_fm28", c => c with { Depth = 1, EmbedDim = 16, NumHeads = 2 });
        Assert.NotEqual(source.Config.PosEmbedLength, target.Config.PosEmbedLength);
        Assert.Empty(InitialWeights.Load(target, dir["w.safetensors"]));
        using var scope = Scope.Enter();
        var src = source.StateDict();
        var got = target.StateDict();
        var grid = (target.Config.GridSize, target.Config.GridSize);
        Assert.True(got["pos_embed"].Equal(PosEmbedResampling.ResampleAbsPosEmbed(src["pos_embed"], grid, null, source.Config.PosEmbedPrefixLength)));
        Assert.True(got["pos_embed"].Slice(1, 0, 1).Equal(src["pos_embed"].Slice(1, 0, 1))); // the class token's row is kept
        foreach (var k in src.Keys.Where(k => k != "pos_embed")) Assert.True(got[k].Equal(src[k]), k);
    }

    [Fact]
    public void TheTrainerRunsTheRecipeKeysTogetherAndRepeatsEachImageInARow()
    {
        // 3-Augment on fashion-mnist's one channel, RA over 256 images (one RA epoch = 256 samples = 32 steps of 8), BCE
        using var dir = new TempDir();
        var config = TrainerTests.Config("data.train_limit=256", "data.repeated_aug=4", "aug.three_augment=true", "optim.loss=bce_binarized",
            "optim.steps=2", "optim.optimizer=lamb", "model.init_values=1e-4", "model.drop_path_schedule=uniform");
        var result = Trainer.Run(config, dir["run"]);
        Assert.NotNull(result.Final);
        Assert.Equal(256 / 8, TrainSampling.SamplesPerEpoch(config, 256, Loader(8, 1, 0), 256) / 8);
        var first = TrainSampling.Plan(config, 256, 0, Loader(8, 1, 0)).Batches[0].Select(s => s.Index).ToArray();
        Assert.Equal(first[0], first[3]);                                  // 4 copies of each image in a row on one rank
        Assert.NotEqual(first[0], first[4]);
    }
}
