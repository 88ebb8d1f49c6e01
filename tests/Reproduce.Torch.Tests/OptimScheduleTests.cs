using System.Text.Json;
using Reproduce.Torch.Optim;
using static Reproduce.Torch.Tests.OptimFixture;

namespace Reproduce.Torch.Tests;

[Collection(SerialCollection.Name)]
public class OptimScheduleTests
{
    private static CosineSchedule Cosine(JsonElement c)
    {
        double D(string k, double d) => c.TryGetProperty(k, out var v) ? v.GetDouble() : d;
        long L(string k, long d) => c.TryGetProperty(k, out var v) ? v.GetInt64() : d;
        return new CosineSchedule(L("t_initial", 0), D("lr_min", 0), L("warmup_t", 0), D("warmup_lr_init", 0),
            c.TryGetProperty("warmup_prefix", out var wp) && wp.GetBoolean(), D("cycle_mul", 1), D("cycle_decay", 1),
            (int)L("cycle_limit", 1), D("k_decay", 1));
    }

    [Theory]
    [InlineData("warmup")]
    [InlineData("warmup_prefix")]
    [InlineData("plain")]
    [InlineData("restarts")]
    public void CosineScheduleMatchesTimm(string name)
    {
        var c = Named("cosine", name);
        var schedule = Cosine(c);
        var baseLr = c.GetProperty("base_lr").GetDouble();
        var steps = c.GetProperty("steps").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        var lrs = Doubles(c.GetProperty("lrs"));
        for (var k = 0; k < steps.Length; k++)
            AssertClose(lrs[k], schedule.LrAt(baseLr, steps[k]), $"{name}: lr at step {steps[k]}");
    }

    [Theory]
    [InlineData("warmup")]
    [InlineData("power")]
    [InlineData("warmup_third")]
    public void PolyScheduleMatchesMmengine(string name)
    {
        var c = Named("poly", name);
        var schedule = new PolySchedule(c.GetProperty("total_steps").GetInt64(), c.GetProperty("power").GetDouble(), c.GetProperty("min_lr").GetDouble(),
            c.GetProperty("warmup_steps").GetInt64(), c.GetProperty("warmup_start_factor").GetDouble());
        var baseLr = c.GetProperty("base_lr").GetDouble();
        var lrs = Doubles(c.GetProperty("lrs"));
        for (var t = 0; t < lrs.Length; t++)
        {
            var got = schedule.LrAt(baseLr, t);
            // The last steps reach lr_min: there the reference's chained products may round to a few ulps of lr_min.
            if (lrs[t] == 0) Assert.Equal(0.0, got);
            else AssertClose(lrs[t], got, $"{name}: lr at step {t}");
        }
    }

    [Fact]
    public void ApplySetsEveryGroupFromItsInitialLrAndScale()
    {
        var ps = FreshParams();
        try
        {
            using var opt = new AdamW([new ParamGroup(ps[..2], lr: 1e-3, lrScale: 0.25), new ParamGroup(ps[2..], lr: 2e-3)]);
            var c = Named("cosine", "warmup");
            var schedule = Cosine(c);
            foreach (var t in new long[] { 0, 5, 10, 60, 200 })
            {
                schedule.Apply(opt, t);
                Assert.Equal(schedule.LrAt(1e-3, t) * 0.25, opt.Groups[0].Lr);
                Assert.Equal(schedule.LrAt(2e-3, t), opt.Groups[1].Lr);
            }
            // the base stays put, so applying is idempotent
            Assert.Equal((1e-3, 2e-3), (opt.Groups[0].InitialLr, opt.Groups[1].InitialLr));
            var poly = new PolySchedule(100, warmupSteps: 0);
            poly.Apply(opt, 99);
            Assert.Equal(0.0, opt.Groups[1].Lr);
            Assert.Throws<ArgumentOutOfRangeException>(() => new PolySchedule(10, warmupSteps: 9));
            Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0));
        }
        finally
        {
            foreach (var p in ps) p.Dispose();
        }
    }
}
