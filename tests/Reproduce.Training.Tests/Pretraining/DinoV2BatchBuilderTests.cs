using Reproduce.Training.Pretraining;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>
/// The batch builder runs its per-crop ops on one intra-op thread: the caller's count comes back afterwards and the
/// batch is the same whatever that count. Serial: it sets the thread count.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class DinoV2BatchBuilderTests
{
    [Fact]
    public void TheBatchDoesNotDependOnTheCallersThreadCountWhichIsRestored()
    {
        var before = Torch.Torch.NumThreads;
        try
        {
            using var scope = Scope.Enter();
            using var g = new Generator(5);
            var images = Enumerable.Range(0, 3).Select(_ => Torch.Torch.Randint(0, 256, [3, 40, 40], g).To(ScalarType.UInt8)).ToList();
            var builder = new DinoV2BatchBuilder(8) { Geometry = new MultiCropGeometry { GlobalSize = 32, LocalSize = 16, LocalCrops = 2 } };
            DinoV2Batch Build(int threads)
            {
                Torch.Torch.NumThreads = threads;
                var batch = builder.Build(images, [0, 1, 2], 11, 4);
                Assert.Equal(threads, Torch.Torch.NumThreads);
                return batch;
            }
            var one = Build(1);
            var two = Build(2);
            Assert.Equal(one.GlobalCrops.ToArray<float>(), two.GlobalCrops.ToArray<float>());
            Assert.Equal(one.LocalCrops!.ToArray<float>(), two.LocalCrops!.ToArray<float>());
            Assert.Equal(one.Masks.ToArray<bool>(), two.Masks.ToArray<bool>());
        }
        finally
        {
            Torch.Torch.NumThreads = before;
        }
    }
}
