using Reproduce.Training.Pretraining;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Models;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>
/// The single-process DINOv2 loop on a tiny in-memory dataset: determinism, the frozen last layer, the EMA teacher, no
/// leaks. Serial: it seeds the default generator and counts live tensors, both process-wide.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class DinoV2PretrainerTests
{
    private sealed class RandomImages(int count, int size) : IImageDataset<ClassificationSample>
    {
        public string Name => "random-images";
        public int Count => count;
        public IReadOnlyList<DataProblem> Problems => [];
        public DataProblem? Check(int index, bool decode = true) => null;

        public ClassificationSample Load(int index)
        {
            using var g = new Generator((ulong)index + 100);
            return new ClassificationSample(Torch.Torch.Randint(0, 256, [3, size, size], g).To(ScalarType.UInt8), index % 2, $"image{index}");
        }
    }

    private static DinoV2PretrainOptions Options() => new(
        new VitConfig { ImgSize = 32, PatchSize = 8, NumClasses = 0, EmbedDim = 16, Depth = 1, NumHeads = 2, MlpRatio = 2.0, DynamicImgSize = true },
        new DinoHeadConfig(Prototypes: 16, HiddenDim: 16, BottleneckDim: 8),
        BatchSize: 2,
        new DinoScheduleSettings(Epochs: 2, EpochLength: 2, Lr: 1e-3, WarmupEpochs: 1, WarmupTeacherTempEpochs: 1, FreezeLastLayerEpochs: 1),
        new DinoV2BatchBuilder(8) { Geometry = new MultiCropGeometry { GlobalSize = 32, LocalSize = 16, LocalCrops = 1 } },
        new DinoV2LossSettings(),
        Seed: 3);

    private static List<double> Run(DinoV2Pretrainer trainer, long from, long to)
    {
        var totals = new List<double>();
        trainer.Run(new RandomImages(4, 36), from, to, log => totals.Add(log.Total));
        return totals;
    }

    [Fact]
    public void StepsAreDeterministicKeepTheLastLayerFrozenAndMoveTheTeacher()
    {
        using var scope = Scope.Enter();
        using var a = new DinoV2Pretrainer(Options());
        var lastLayer0 = a.Step.Student.DinoHead.LastLayer.WeightV.Clone();
        var patchEmbed0 = a.Step.Student.Backbone.PatchEmbed.Proj.Weight.Clone();
        var teacher0 = a.Step.Teacher.Backbone.PatchEmbed.Proj.Weight.Clone();
        var first = Run(a, 0, 1);
        var live = Tensor.LiveCount;
        first.AddRange(Run(a, 1, 2));
        Assert.Equal(live, Tensor.LiveCount);
        Assert.All(first, x => Assert.True(double.IsFinite(x)));
        // epoch 0 is the freeze: the prototypes have lr 0 (and so no decay either), the rest trains
        Assert.Equal(lastLayer0.ToArray<float>(), a.Step.Student.DinoHead.LastLayer.WeightV.ToArray<float>());
        Assert.NotEqual(patchEmbed0.ToArray<float>(), a.Step.Student.Backbone.PatchEmbed.Proj.Weight.ToArray<float>());
        // the teacher moved towards the student but is not the student
        var teacher = a.Step.Teacher.Backbone.PatchEmbed.Proj.Weight.ToArray<float>();
        Assert.NotEqual(teacher0.ToArray<float>(), teacher);
        Assert.NotEqual(a.Step.Student.Backbone.PatchEmbed.Proj.Weight.ToArray<float>(), teacher);
        first.AddRange(Run(a, 2, 3));
        Assert.NotEqual(lastLayer0.ToArray<float>(), a.Step.Student.DinoHead.LastLayer.WeightV.ToArray<float>());

        using var b = new DinoV2Pretrainer(Options());
        Assert.Equal(first.Take(2), Run(b, 0, 2));
    }
}
