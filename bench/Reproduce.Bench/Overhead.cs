using System.Diagnostics;
using Reproduce.Torch;

namespace Reproduce.Bench;

/// <summary>
/// Per-op dispatch overhead: a loop of tiny ops whose kernels cost almost nothing, so the time per op is
/// the binding's (C#: argument marshalling, one boxed dispatcher call, a handle; Python: the pybind/unboxed path).
/// </summary>
internal static class Overhead
{
    /// <summary>Microseconds per op for <c>aten::add</c> of two 1-element tensors, and for <c>aten::linear</c> [8,16]·[16,16]ᵀ recording autograd.</summary>
    public static (double Add, double Linear) CSharp(int n)
    {
        using var s = Scope.Enter();
        var a = Torch.Torch.Ones([1]);
        var b = Torch.Torch.Ones([1]);
        var x = Torch.Torch.Randn([8, 16]).RequiresGrad_();
        var w = Torch.Torch.Randn([16, 16]).RequiresGrad_();
        using var detached = Scope.Enter();
        return (Time(n, () => a.Add(b).Dispose()), Time(n / 4, () => F.Linear(x, w).Dispose()));
    }

    private static double Time(int n, Action op)
    {
        for (var i = 0; i < Math.Min(n, 1000); i++) op();
        var t0 = Stopwatch.GetTimestamp();
        for (var i = 0; i < n; i++) op();
        return Stopwatch.GetElapsedTime(t0).TotalSeconds / n * 1e6;
    }
}
