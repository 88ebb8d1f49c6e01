using System.Text.Json;
using Reproduce.Torch.Nn;
using Reproduce.Torch.Optim;

namespace Reproduce.Torch.Tests;

/// <summary>tests/fixtures/optim.json (written by tests/fixtures/gen_optim.py) and helpers to use it.</summary>
internal static class OptimFixture
{
    private static readonly Lazy<JsonElement> Doc = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "fixtures", "optim.json");
            if (File.Exists(path)) return JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        }
        throw new FileNotFoundException("tests/fixtures/optim.json not found above " + AppContext.BaseDirectory);
    });

    public static JsonElement Root => Doc.Value;

    public const double Tolerance = 1e-10;

    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    public static long[] Shape(int i) => Root.GetProperty("shapes")[i].EnumerateArray().Select(x => x.GetInt64()).ToArray();

    public static int ParamCount => Root.GetProperty("shapes").GetArrayLength();

    public static int Steps => Root.GetProperty("grads").GetArrayLength();

    public static JsonElement Named(string section, string name) =>
        Root.GetProperty(section).EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    /// <summary>Fresh float64 parameters at the fixture's initial values (the caller disposes them).</summary>
    public static Parameter[] FreshParams()
    {
        using var s = Scope.Enter();
        var init = Root.GetProperty("params0");
        return Enumerable.Range(0, ParamCount).Select(i => new Parameter(Tensor.From(Doubles(init[i]), Shape(i)))).ToArray();
    }

    /// <summary>Sets the gradients of step <paramref name="step"/> (null entries clear the gradient).</summary>
    public static void SetGrads(Parameter[] ps, int step)
    {
        using var s = Scope.Enter();
        var grads = Root.GetProperty("grads")[step];
        for (var i = 0; i < ps.Length; i++)
            ps[i].Grad = grads[i].ValueKind == JsonValueKind.Null ? null : Tensor.From(Doubles(grads[i]), Shape(i));
    }

    /// <summary>Builds the optimizer a fixture case describes over <paramref name="ps"/>.</summary>
    public static Optimizer Build(JsonElement c, Parameter[] ps)
    {
        var groups = c.GetProperty("groups").EnumerateArray().Select(g => new ParamGroup(
            g.GetProperty("params").EnumerateArray().Select(i => ps[i.GetInt32()]),
            lr: g.TryGetProperty("lr", out var lr) ? lr.GetDouble() : null,
            weightDecay: g.TryGetProperty("weight_decay", out var wd) ? wd.GetDouble() : null)).ToList();
        var d = c.GetProperty("defaults");
        var (dlr, dwd) = (d.GetProperty("lr").GetDouble(), d.GetProperty("weight_decay").GetDouble());
        var o = c.GetProperty("options");
        double D(string k) => o.GetProperty(k).GetDouble();
        bool B(string k) => o.GetProperty(k).GetBoolean();
        return c.GetProperty("kind").GetString() switch
        {
            "adamw" => new AdamW(groups, dlr, dwd, new AdamWOptions(D("beta1"), D("beta2"), D("eps"), B("amsgrad"))),
            "sgd" => new Sgd(groups, dlr, dwd, new SgdOptions(D("momentum"), D("dampening"), B("nesterov"))),
            "lamb" => new Lamb(groups, dlr, dwd,
                new LambOptions(D("beta1"), D("beta2"), D("eps"), B("bias_correction"), B("grad_averaging"), B("trust_clip"), B("always_adapt")),
                o.GetProperty("max_grad_norm").ValueKind == JsonValueKind.Null ? null : D("max_grad_norm")),
            var k => throw new ArgumentException($"unknown optimizer kind {k}"),
        };
    }

    /// <summary>Asserts max|actual − expected| ≤ 1e-10 · max|expected| (relative error of the tensor in the max norm).</summary>
    public static void AssertClose(double[] expected, Tensor actual, string what)
    {
        using var s = Scope.Enter();
        AssertClose(expected, actual.To(ScalarType.Float64).ToArray<double>(), what);
    }

    /// <summary>Array form of <see cref="AssertClose(double[], Tensor, string)"/>.</summary>
    public static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        var scale = expected.Length == 0 ? 0 : expected.Max(Math.Abs);
        var err = expected.Zip(actual, (e, a) => Math.Abs(e - a)).DefaultIfEmpty(0).Max();
        Assert.True(err <= Tolerance * scale, $"{what}: max abs error {err:G3} exceeds {Tolerance:G1} × {scale:G3}");
    }

    /// <summary>Asserts a scalar has relative error ≤ 1e-10.</summary>
    public static void AssertClose(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= Tolerance * Math.Abs(expected), $"{what}: {actual:R}, expected {expected:R}");
}

/// <summary>A module assembled from dotted names, to mirror a Python model's parameter and buffer layout.</summary>
internal sealed class Bag : Module
{
    private readonly Dictionary<string, Bag> _children = [];

    private Bag Path(string dotted, out string leaf)
    {
        var parts = dotted.Split('.');
        var m = this;
        foreach (var part in parts[..^1])
        {
            if (!m._children.TryGetValue(part, out var c)) m._children[part] = c = m.Register(part, new Bag());
            m = c;
        }
        leaf = parts[^1];
        return m;
    }

    public Parameter AddParameter(string dotted, Tensor data, bool requiresGrad = true)
    {
        var m = Path(dotted, out var leaf);
        return m.RegisterParameter(leaf, data, requiresGrad);
    }

    public Tensor AddBuffer(string dotted, Tensor data)
    {
        var m = Path(dotted, out var leaf);
        return m.RegisterBuffer(leaf, data);
    }
}
