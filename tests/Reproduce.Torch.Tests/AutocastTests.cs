using System.Text.Json;

namespace Reproduce.Torch.Tests;

/// <summary>
/// CPU bf16 autocast against Debian's PyTorch (tests/fixtures/gen_autocast.py, "ops"): the same ops run in bf16 (the
/// output dtypes of libtorch's CPU autocast policy) with the same values, and the region opens and closes as
/// <c>torch.autocast</c> does.
/// </summary>
[Collection(SerialCollection.Name)]
public class AutocastTests
{
    private static readonly Lazy<JsonElement> Ops = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "autocast_reference.json"))).RootElement.GetProperty("ops"));

    private static Tensor Input(string name)
    {
        var e = Ops.Value.GetProperty("inputs").GetProperty(name);
        return Tensor.From(e.GetProperty("data").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray(),
            e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray());
    }

    /// <summary>The fixture's ops, spelled with the C# API, inside one CPU bf16 autocast region.</summary>
    private static Dictionary<string, Tensor> Run()
    {
        var (a, b, w, bias) = (Input("a"), Input("b"), Input("w"), Input("bias"));
        var target = Tensor.From(Ops.Value.GetProperty("target").EnumerateArray().Select(x => x.GetInt64()).ToArray());
        using var _ = Torch.Autocast(DeviceType.Cpu, ScalarType.BFloat16);
        var mm = a.Matmul(b);
        return new()
        {
            ["linear"] = F.Linear(a, w, bias),
            ["matmul"] = mm,
            ["conv2d"] = F.Conv2d(Input("img"), Input("k")),
            ["softmax_fp32_input"] = F.Softmax(a, -1),
            ["softmax_bf16_input"] = F.Softmax(mm, -1),
            ["layer_norm"] = F.LayerNorm(a, [6], Input("ln_w"), Input("ln_b"), 1e-6),
            ["gelu_bf16_input"] = F.Gelu(mm),
            ["add_mixed"] = mm.Add(b.Slice(0, 0, 4)),
            ["cross_entropy_bf16_input"] = F.CrossEntropy(mm, target),
        };
    }

    [Fact]
    public void OpsRunInTheDtypesOfPyTorchsCpuPolicyWithItsValues()
    {
        using var scope = Scope.Enter();
        var got = Run();
        var expected = Ops.Value.GetProperty("outputs");
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(), got.Keys.Order());
        foreach (var o in expected.EnumerateObject())
        {
            var t = got[o.Name];
            Assert.True(o.Value.GetProperty("dtype").GetString() == t.DType.Name(), $"{o.Name}: dtype {t.DType.Name()}, PyTorch gives {o.Value.GetProperty("dtype").GetString()}");
            Assert.Equal(o.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()), t.Shape);
            var want = o.Value.GetProperty("data").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var have = t.Float().Contiguous().ToArray<float>();
            // Same kernels on the same inputs: equal up to float32 printing; one bf16 ulp (2⁻⁸ relative) of slack.
            for (var i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(have[i] - want[i]) <= 4e-3 * Math.Max(1, Math.Abs(want[i])), $"{o.Name}[{i}]: {have[i]} vs PyTorch {want[i]}");
        }
    }

    [Fact]
    public void WithoutTheRegionTheSameOpsStayFloat32()
    {
        using var scope = Scope.Enter();
        Assert.Equal(ScalarType.Float32, Input("a").Matmul(Input("b")).DType);
        Assert.Equal(ScalarType.Float32, F.Linear(Input("a"), Input("w")).DType);
    }

    [Fact]
    public void RegionsNestAndRestoreThePreviousState()
    {
        Assert.False(Torch.IsAutocastEnabled(DeviceType.Cpu));
        using (Torch.Autocast(DeviceType.Cpu))
        {
            Assert.True(Torch.IsAutocastEnabled(DeviceType.Cpu));
            Assert.False(Torch.IsAutocastEnabled(DeviceType.Cuda));
            using (Torch.Autocast(DeviceType.Cpu)) Assert.True(Torch.IsAutocastEnabled(DeviceType.Cpu));
            Assert.True(Torch.IsAutocastEnabled(DeviceType.Cpu));
        }
        Assert.False(Torch.IsAutocastEnabled(DeviceType.Cpu));
    }

    [Fact]
    public void AnUnsupportedDeviceTypeIsAClearError()
    {
        var e = Assert.Throws<TorchException>(() => Torch.Autocast((DeviceType)7));
        Assert.Contains("autocast: device type", e.Message, StringComparison.Ordinal);
        Assert.Contains("(cpu or cuda)", e.Message, StringComparison.Ordinal);
        Assert.False(Torch.IsAutocastEnabled(DeviceType.Cpu));
    }
}
