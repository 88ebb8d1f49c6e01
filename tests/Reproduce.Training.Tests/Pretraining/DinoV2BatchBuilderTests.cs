using Reproduce.Training.Pretraining;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>
/// The batch builder's two guarantees the trainer relies on: the same batch for any number of cropping threads, and
/// a data-parallel rank's slots of a global batch equal to those rows of the batch one process builds; and its
/// per-crop ops run on one intra-op thread, the caller's count restored afterwards. Serial: it sets the thread count.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class DinoV2BatchBuilderTests
{
    private static readonly DinoV2BatchBuilder Builder = new(8)
    {
        Geometry = new MultiCropGeometry { GlobalSize = 32, LocalSize = 16, LocalCrops = 2 },
    };

    private static List<Tensor> Images(int count)
    {
        using var g = new Generator(11);
        return Enumerable.Range(0, count).Select(_ => Torch.Torch.Randint(0, 256, [3, 40, 48], g).To(ScalarType.UInt8)).ToList();
    }

    private static void Same(Tensor a, Tensor b, string what)
    {
        Assert.Equal(a.Shape, b.Shape);
        Assert.True(a.Equal(b), what);
    }

    [Fact]
    public void ThreadsDoNotChangeTheBatch()
    {
        using var scope = Scope.Enter();
        var images = Images(6);
        long[] positions = [3, 9, 4, 0, 7, 12];
        var one = Builder.Build(images, positions, seed: 5, step: 2);
        var three = (Builder with { Workers = 3 }).Build(images, positions, seed: 5, step: 2);
        Same(one.GlobalCrops, three.GlobalCrops, "global crops");
        Same(one.LocalCrops!, three.LocalCrops!, "local crops");
        Same(one.Masks, three.Masks, "masks");
        Assert.Equal([12L, 3, 32, 32], one.GlobalCrops.Shape);
        Assert.Equal([12L, 3, 16, 16], one.LocalCrops!.Shape);
    }

    [Fact]
    public void TheRanksSlotsAreTheRowsOfTheGlobalBatch()
    {
        using var scope = Scope.Enter();
        var images = Images(8);
        var positions = Enumerable.Range(100, 8).Select(p => (long)p).ToList();
        var whole = Builder.Build(images, positions, seed: 1, step: 4);
        Assert.True(whole.Masks.Sum().ToDouble() > 0, "no masks drawn");
        const int world = 2;
        for (var rank = 0; rank < world; rank++)
        {
            var slots = Enumerable.Range(0, 4).Select(j => j * world + rank).ToArray();
            var part = Builder.Build(slots.Select(s => images[s]).ToList(), slots.Select(s => positions[s]).ToList(), 1, 4, globalImages: 8, slots: slots);
            // crop-major rows: global crop c of slot s is row c·8 + s; local crop l likewise
            var globalRows = Tensor.From<long>([.. slots.Select(s => (long)s), .. slots.Select(s => 8L + s)], [8]);
            var localRows = globalRows;
            Same(whole.GlobalCrops.IndexSelect(0, globalRows), part.GlobalCrops, $"rank {rank} global crops");
            Same(whole.LocalCrops!.IndexSelect(0, localRows), part.LocalCrops!, $"rank {rank} local crops");
            Same(whole.Masks.IndexSelect(0, globalRows), part.Masks, $"rank {rank} masks");
        }
    }

    [Fact]
    public void TheBatchDoesNotDependOnTheCallersThreadCountWhichIsRestored()
    {
        var before = Torch.Torch.NumThreads;
        try
        {
            using var scope = Scope.Enter();
            var images = Images(3);
            DinoV2Batch Build(int threads)
            {
                Torch.Torch.NumThreads = threads;
                var batch = Builder.Build(images, [0, 1, 2], 11, 4);
                Assert.Equal(threads, Torch.Torch.NumThreads);
                return batch;
            }
            var one = Build(1);
            var two = Build(2);
            Same(one.GlobalCrops, two.GlobalCrops, "global crops");
            Same(one.LocalCrops!, two.LocalCrops!, "local crops");
            Same(one.Masks, two.Masks, "masks");
        }
        finally
        {
            Torch.Torch.NumThreads = before;
        }
    }
}
