using System.Diagnostics;
using System.Runtime.InteropServices;
using Reproduce.Torch;
using Reproduce.Torch.Optim;
using Reproduce.Vision.Models;

namespace Reproduce.Bench;

/// <summary>
/// The C# side: a fresh model, <see cref="AdamW"/> (torch.optim.AdamW's exact update, PyTorch's defaults)
/// and one fixed synthetic batch; <see cref="Create"/> runs the warmup steps, <see cref="Step"/> runs and
/// times one more. Gradients are dropped after each step (set to None), not zeroed. On a CUDA device reading
/// the loss at the end of the step copies it to the host, which waits for the device (as PyTorch's
/// <c>loss.item()</c>); with bf16 the forward and the
/// loss run inside bf16 autocast on the device (fp32 master weights), as <c>torch.autocast</c>.
/// </summary>
internal sealed class CSharpTrainer : ITrainer
{
    private readonly VisionTransformer _model;
    private readonly AdamW _opt;
    private readonly Tensor _x, _y;
    private readonly Device _device;
    private readonly bool _bf16;

    private CSharpTrainer(VisionTransformer model, Tensor x, Tensor y, Device device, bool bf16)
    {
        (_model, _x, _y, _device, _bf16) = (model, x, y, device, bf16);
        _opt = new AdamW(_model.Parameters());
        _model.Train();
    }

    /// <summary>A freshly initialised model (timm init) and a random batch, after <paramref name="warmup"/> steps.</summary>
    public static CSharpTrainer Create(BenchModel bm, int warmup, ulong seed, Device? device = null, bool bf16 = false)
    {
        Torch.Torch.ManualSeed(seed);
        var c = bm.Config;
        var d = device ?? Device.Cpu;
        var model = new VisionTransformer(c);
        model.To(d);
        using var s = Scope.Enter();
        var t = new CSharpTrainer(model,
            Torch.Torch.Randn([bm.Batch, c.InChans, c.ImgSize, c.ImgSize], device: d).DetachFromScope(),
            Torch.Torch.Randint(0, c.NumClasses, [bm.Batch], device: d).DetachFromScope(), d, bf16);
        for (var i = 0; i < warmup; i++) t.TrainStep();
        return t;
    }

    /// <summary>A model loaded from <paramref name="state"/> (timm keys) training on the given batch (copied).</summary>
    public static CSharpTrainer FromState(BenchModel bm, IReadOnlyDictionary<string, Tensor> state, Tensor x, Tensor y, Device? device = null, bool bf16 = false)
    {
        var d = device ?? Device.Cpu;
        var model = new VisionTransformer(bm.Config);
        model.LoadStateDict(state);
        model.To(d);
        using var s = Scope.Enter();
        return new CSharpTrainer(model, x.To(d).Clone().DetachFromScope(), y.To(d).Clone().DetachFromScope(), d, bf16);
    }

    /// <summary>The model being trained.</summary>
    public VisionTransformer Model => _model;

    public string Side => "C#";

    public StepResult Step()
    {
        var u0 = Usage.Now();
        var t0 = Stopwatch.GetTimestamp();
        var loss = TrainStep();
        var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return new StepResult(seconds, loss, Usage.Now().Minus(u0));
    }

    /// <summary>One training step, returning the loss; every tensor it creates is freed when its scope closes.</summary>
    public double TrainStep()
    {
        using var s = Scope.Enter();
        Tensor loss;
        using (_bf16 ? Torch.Torch.Autocast(_device.Type) : (IDisposable?)null)
            loss = F.CrossEntropy(_model.Forward(_x), _y);
        loss.Backward();
        _opt.Step();
        _opt.ZeroGrad();
        // Read the loss (as the PyTorch side's loss.item()) without dispatching a conversion op.
        Span<float> v = stackalloc float[1];
        loss.CopyTo(MemoryMarshal.AsBytes(v));
        return v[0];
    }

    public void Dispose()
    {
        _x.Dispose();
        _y.Dispose();
        _opt.Dispose();
        _model.Dispose();
    }
}

/// <summary>One side of the benchmark, ready to run timed steps.</summary>
internal interface ITrainer : IDisposable
{
    /// <summary>"C#" or "PyTorch".</summary>
    string Side { get; }

    /// <summary>Runs one timed training step.</summary>
    StepResult Step();
}

/// <summary>Wall time of one step, its loss (a sanity value) and the process's resource use during it.</summary>
internal sealed record StepResult(double Seconds, double Loss, Usage Usage);

/// <summary>Process CPU time (user, system) and minor page faults: where a step's wall time went.</summary>
internal readonly record struct Usage(double UserSeconds, double SystemSeconds, double MinorFaults)
{
    /// <summary>This process's totals so far (as getrusage, read from /proc/self/stat).</summary>
    public static Usage Now()
    {
        // Fields after "pid (comm) ": state is field 3; minflt 10, utime 14, stime 15 (clock ticks).
        var stat = File.ReadAllText("/proc/self/stat");
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        const double tick = 100.0; // USER_HZ on Linux
        static long L(string s) => long.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
        return new Usage(L(f[11]) / tick, L(f[12]) / tick, L(f[7]));
    }

    public Usage Minus(Usage o) => new(UserSeconds - o.UserSeconds, SystemSeconds - o.SystemSeconds, MinorFaults - o.MinorFaults);

    public Usage Plus(Usage o) => new(UserSeconds + o.UserSeconds, SystemSeconds + o.SystemSeconds, MinorFaults + o.MinorFaults);

    public Usage Over(int n) => new(UserSeconds / n, SystemSeconds / n, MinorFaults / n);
}
