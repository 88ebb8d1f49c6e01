using System.Diagnostics;
using Reproduce.Torch;
using Reproduce.Vision.Models;

namespace Reproduce.Bench;

/// <summary>The C# side: trains a fresh model on one fixed synthetic batch and times the steps.</summary>
internal static class CSharpTrainer
{
    /// <summary>Runs <paramref name="warmup"/> untimed then <paramref name="steps"/> timed steps; returns images per second.</summary>
    public static RunResult Run(BenchModel bm, int warmup, int steps, ulong seed)
    {
        Torch.Torch.ManualSeed(seed);
        var c = bm.Config;
        using var model = new VisionTransformer(c);
        using var opt = new AdamW(model.Parameters());
        using var data = Scope.Enter();
        var x = Torch.Torch.Randn([bm.Batch, c.InChans, c.ImgSize, c.ImgSize]);
        var y = Torch.Torch.Randint(0, c.NumClasses, [bm.Batch]);
        model.Train();

        double lastLoss = 0;
        for (var i = 0; i < warmup; i++) lastLoss = Step(model, opt, x, y);
        var times = new double[steps];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            lastLoss = Step(model, opt, x, y);
            times[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        var seconds = total.Elapsed.TotalSeconds;
        return new RunResult(bm.Batch * steps / seconds, times, lastLoss);
    }

    /// <summary>One training step; every tensor it creates is freed when its scope closes.</summary>
    private static double Step(VisionTransformer model, AdamW opt, Tensor x, Tensor y)
    {
        double loss;
        using (var s = Scope.Enter())
        {
            var l = F.CrossEntropy(model.Forward(x), y);
            l.Backward();
            opt.Step();
            opt.ZeroGrad();
            loss = l.Item();
        }
        return loss;
    }

    private static double Item(this Tensor t)
    {
        // A one-element float32 read without the conversion op ToDouble() would dispatch.
        Span<float> v = stackalloc float[1];
        t.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v));
        return v[0];
    }
}

/// <summary>Throughput of one run, its per-step times and the last loss (a sanity value).</summary>
internal sealed record RunResult(double ImagesPerSecond, double[] StepSeconds, double LastLoss);
