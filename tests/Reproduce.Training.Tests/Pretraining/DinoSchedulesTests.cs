using System.Text.Json;
using Reproduce.Training.Pretraining;
using static Reproduce.Training.Tests.Pretraining.SslFixture;

namespace Reproduce.Training.Tests.Pretraining;

/// <summary>DINOv2's five schedules against tests/fixtures/ssl/schedules.json (gen_schedules.py, numpy), iteration by iteration.</summary>
public sealed class DinoSchedulesTests
{
    private static DinoScheduleSettings Settings(JsonElement s) => new(
        s.GetProperty("epochs").GetInt64(), s.GetProperty("epoch_length").GetInt64(), s.GetProperty("lr").GetDouble(),
        s.GetProperty("min_lr").GetDouble(), s.GetProperty("warmup_epochs").GetInt64(), s.GetProperty("weight_decay").GetDouble(),
        s.GetProperty("weight_decay_end").GetDouble(), s.GetProperty("momentum_teacher").GetDouble(),
        s.GetProperty("final_momentum_teacher").GetDouble(), s.GetProperty("warmup_teacher_temp").GetDouble(),
        s.GetProperty("teacher_temp").GetDouble(), s.GetProperty("warmup_teacher_temp_epochs").GetInt64(),
        s.GetProperty("freeze_last_layer_epochs").GetInt64());

    [Fact]
    public void EveryScheduleEqualsTheReferenceStepByStep()
    {
        foreach (var c in Load("schedules").GetProperty("cases").EnumerateArray())
        {
            var schedules = new DinoSchedules(Settings(c.GetProperty("settings")));
            var its = Longs(c.GetProperty("iterations"));
            var values = its.Select(schedules.At).ToArray();
            var v = c.GetProperty("values");
            var name = c.GetProperty("name").GetString();
            // numpy's cos and .NET's may differ in the last bit, hence 1e-15 rather than exact equality
            AssertClose(Doubles(v.GetProperty("lr")), values.Select(x => x.Lr).ToArray(), $"{name} lr", 1e-15);
            AssertClose(Doubles(v.GetProperty("wd")), values.Select(x => x.WeightDecay).ToArray(), $"{name} weight decay", 1e-15);
            AssertClose(Doubles(v.GetProperty("momentum")), values.Select(x => x.Momentum).ToArray(), $"{name} teacher momentum", 1e-15);
            AssertClose(Doubles(v.GetProperty("teacher_temp")), values.Select(x => x.TeacherTemp).ToArray(), $"{name} teacher temperature", 1e-15);
            AssertClose(Doubles(v.GetProperty("last_layer_lr")), values.Select(x => x.LastLayerLr).ToArray(), $"{name} last-layer lr", 1e-15);
        }
    }

    [Fact]
    public void WarmUpsAndEndsAreTheDocumentedValues()
    {
        var s = new DinoSchedules(new DinoScheduleSettings());
        var total = 100 * 1250L;
        Assert.Equal(0, s.At(0).Lr);
        Assert.Equal(0.004, s.At(10 * 1250 - 1).Lr);  // np.linspace ends exactly at the peak
        Assert.Equal(0.04, s.At(0).TeacherTemp);
        Assert.Equal(0.07, s.At(30 * 1250 - 1).TeacherTemp);
        Assert.Equal(0.07, s.At(total + 5).TeacherTemp);
        Assert.Equal(0, s.At(1249).LastLayerLr);
        Assert.Equal(s.At(1250).Lr, s.At(1250).LastLayerLr);
        Assert.Equal(1.0, s.At(total).Momentum);
        Assert.Equal(0.4, s.At(total).WeightDecay);
        Assert.Equal(1e-6, s.At(total).Lr);
    }

    [Fact]
    public void SqrtScalingRuleEqualsTheReference()
    {
        foreach (var c in Load("schedules").GetProperty("sqrt_scaling").EnumerateArray())
            Assert.Equal(c.GetProperty("lr").GetDouble(), DinoSchedules.SqrtScaledLr(c.GetProperty("base_lr").GetDouble(),
                c.GetProperty("batch_per_gpu").GetInt64(), c.GetProperty("world").GetInt32()));
    }

    [Fact]
    public void InconsistentSettingsAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => new DinoSchedules(new DinoScheduleSettings(Epochs: 5, WarmupEpochs: 10)));
        Assert.Contains("exceed", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SslCosineSchedule(1, 0, 10)[-1]);
    }
}
