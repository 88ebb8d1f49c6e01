using Reproduce.Torch.IO;
using Reproduce.Training.Checkpoints;
using Reproduce.Training.Config;
using Reproduce.Training.Train;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>
/// <c>reproduce weights</c> on a DINOv2 run (what the paper scripts call to get a backbone for the probes): the
/// checkpoint's teacher backbone by timm key, equal to the model weights the run wrote, not its training state.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class DinoV2WeightsExportTests
{
    [Fact]
    public void TheExportOfADinoV2CheckpointIsItsTeacherBackbone()
    {
        using var dir = new TempDir();
        var config = RunConfig.Load((string?)null, [.. DinoV2TrainRunTests.Smoke, "optim.steps=2", "checkpoint.every_steps=2"]);
        Trainer.Run(config, dir["run"], new TrainOptions());
        using var scope = Scope.Enter();
        var r = WeightsExport.Export(dir["run"], WeightsCheckpoint.Last, ema: false, dir["w.safetensors"]);
        var exported = SafeTensors.Load(r.File);
        var written = SafeTensors.Load(Path.Combine(dir["run"], Trainer.ModelWeightsFile));
        Assert.Equal(written.Keys.Order(), exported.Keys.Order());
        Assert.Equal(written.Count, r.Tensors);
        foreach (var (key, tensor) in written) Assert.Equal(tensor.ToArray<float>(), exported[key].ToArray<float>());
        Assert.DoesNotContain(exported.Keys, k => k.StartsWith("student.", StringComparison.Ordinal) || k.Contains("center", StringComparison.Ordinal));
        // a DINOv2 run has no EMA section: the teacher is its EMA, so --ema is refused with the run named
        var e = Assert.Throws<CheckpointException>(() => WeightsExport.Export(dir["run"], WeightsCheckpoint.Last, ema: true, dir["e.safetensors"]));
        Assert.Contains("no EMA weights", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir["e.safetensors"]));
    }
}
