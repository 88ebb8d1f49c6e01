using System.Globalization;
using System.Text.Json;
using Reproduce.Bench;
using Reproduce.Torch;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;

namespace Reproduce.GpuKit;

/// <summary>
/// Op-family parity: the ops of <c>tools/gpu/ops_reference.py</c> (elementwise, reductions, matmul, linear, conv2d,
/// softmax, layer and batch norm, cross-entropy, attention), each forward and backward of <c>(out · cot).sum()</c>,
/// and 3 AdamW and SGD steps from fixed gradients, on the same inputs as PyTorch. Compared with PyTorch on the same
/// device, and on a GPU also C# on CUDA against C# on the CPU. TF32 is off on both sides, so float32 is compared with
/// float32 (allclose: |a − b| ≤ atol + rtol·|b|).
/// </summary>
internal static class OpsParity
{
    private sealed record OpCase(string Name, string[] Inputs, Func<Tensor[], Tensor> Fn);

    private static readonly OpCase[] Ops =
    [
        new("elementwise", ["a"], x => F.Gelu(x[0]).Mul(F.Sigmoid(x[0])).Add(x[0].Tanh().Mul(0.5))),
        new("reduce", ["a"], x => x[0].Mean(-1).Add(x[0].Pow(2).Sum(-1)).Add(x[0].Amax([-1]))),
        new("matmul", ["a", "b"], x => x[0].Matmul(x[1])),
        new("linear", ["a", "w", "bias"], x => F.Linear(x[0], x[1], x[2])),
        new("conv2d", ["img", "k", "kb"], x => F.Conv2d(x[0], x[1], x[2], [1, 1], [1, 1])),
        new("softmax", ["a"], x => F.Softmax(x[0], -1)),
        new("layer_norm", ["a", "lnw", "lnb"], x => F.LayerNorm(x[0], [16], x[1], x[2], 1e-6)),
        new("batch_norm", ["img", "bnw", "bnb"], x => F.BatchNorm(x[0], null, null, x[1], x[2], true, 0.1, 1e-5)),
        new("cross_entropy", ["logits", "target"], x => F.CrossEntropy(x[0], x[1], labelSmoothing: 0.1)),
        new("attention", ["q", "kk", "v"], x => F.ScaledDotProductAttention(x[0], x[1], x[2])),
    ];

    private static readonly (string Name, Func<Parameter, Optimizer> Make)[] Optims =
    [
        ("adamw", p => new AdamW([p], lr: 1e-2, weightDecay: 0.05)),
        ("sgd", p => new Sgd([p], lr: 1e-2, weightDecay: 1e-4, new SgdOptions(Momentum: 0.9, Nesterov: true))),
    ];

    /// <summary>Runs the reference script on <paramref name="device"/> and adds one check per op and optimizer.</summary>
    public static void Run(KitReport report, string python, string script, Device device, string workDir)
    {
        var dir = Path.Combine(workDir, "ops-" + device.ToString().Replace(':', '-'));
        PyTorch.RunOnce(python, script, "--device", device.ToString(), "--out", dir);
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "manifest.json")));
        report.Facts["pytorch"] = manifest.RootElement.GetProperty("torch").GetString() ?? "?";
        using var scope = Scope.Enter();
        var reference = Verify.Load(Path.Combine(dir, "tensors.bin"), manifest.RootElement.GetProperty("tensors"));
        var inputs = reference.Where(kv => kv.Key.StartsWith("inputs/", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["inputs/".Length..], kv => kv.Value);
        var (tf32Mm, tf32Conv) = device.IsCuda ? (Torch.Torch.AllowTf32Matmul, Torch.Torch.AllowTf32Cudnn) : (false, false);
        if (device.IsCuda) (Torch.Torch.AllowTf32Matmul, Torch.Torch.AllowTf32Cudnn) = (false, false);
        try
        {
            var mine = Compute(inputs, reference, device);
            Compare(report, mine, reference, $"vs PyTorch on {device}", device.IsCuda ? 1e-5 : 1e-6, 1e-4);
            if (device.IsCuda) Compare(report, mine, Compute(inputs, reference, Device.Cpu), "C# CUDA vs C# CPU", 1e-4, 1e-3);
        }
        finally
        {
            if (device.IsCuda) (Torch.Torch.AllowTf32Matmul, Torch.Torch.AllowTf32Cudnn) = (tf32Mm, tf32Conv);
        }
    }

    /// <summary>Every op's output and input gradients and every optimizer's final parameter, as CPU tensors.</summary>
    private static Dictionary<string, Tensor> Compute(Dictionary<string, Tensor> inputs, Dictionary<string, Tensor> reference, Device device)
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var op in Ops)
        {
            var xs = op.Inputs.Select(n => inputs[n].To(device).Clone()).ToArray();
            foreach (var x in xs.Where(x => x.DType == ScalarType.Float32)) x.RequiresGrad = true;
            var output = op.Fn(xs);
            output.Mul(reference[op.Name + "/cot"].To(device)).Sum().Backward();
            result[op.Name + "/out"] = output.Detach().To(Device.Cpu);
            for (var i = 0; i < xs.Length; i++)
                if (xs[i].Grad is { } g) result[$"{op.Name}/grad/{op.Inputs[i]}"] = g.To(Device.Cpu);
        }
        foreach (var (name, make) in Optims)
        {
            using var p = new Parameter(inputs["p"].To(device).Clone());
            using var opt = make(p);
            foreach (var g in new[] { "g1", "g2", "g3" })
            {
                p.Grad = inputs[g].To(device).Clone();
                opt.Step();
            }
            result[name + "/final"] = p.Detach().To(Device.Cpu).Clone();
        }
        return result;
    }

    private static void Compare(KitReport report, Dictionary<string, Tensor> mine, Dictionary<string, Tensor> reference, string against, double atol, double rtol)
    {
        foreach (var name in Ops.Select(o => o.Name).Concat(Optims.Select(o => o.Name)))
        {
            var keys = mine.Keys.Where(k => k.StartsWith(name + "/", StringComparison.Ordinal)).ToList();
            var missing = reference.Keys.Where(k => k.StartsWith(name + "/", StringComparison.Ordinal) && k != name + "/cot" && !mine.ContainsKey(k)).ToList();
            double err = 0, excess = double.NegativeInfinity;
            foreach (var k in keys)
            {
                var (a, b) = (mine[k], reference[k]);
                if (!a.Shape.SequenceEqual(b.Shape))
                    throw new InvalidOperationException($"{k}: shape [{string.Join(',', a.Shape)}] vs reference [{string.Join(',', b.Shape)}]");
                var diff = a.Sub(b).Abs();
                err = Math.Max(err, diff.Max().ToDouble());
                excess = Math.Max(excess, diff.Sub(b.Abs().Mul(rtol)).Max().ToDouble());
            }
            var passed = missing.Count == 0 && keys.Count > 0 && excess <= atol;
            var detail = missing.Count > 0 ? "missing: " + string.Join(", ", missing)
                : string.Create(CultureInfo.InvariantCulture, $"{keys.Count} tensors, atol {atol:G2} rtol {rtol:G2}");
            report.Add(new Check("parity", $"{name} ({against})", passed, err, detail));
        }
    }
}
