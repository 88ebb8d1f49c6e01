using System.Globalization;
using System.Text;

using Reproduce.Torch;

// Shared by the test projects (linked from tests/Shared into each): float64 finite-difference gradient checks.
namespace Reproduce.Testing;

/// <summary>
/// Compares the gradients autograd computes (through <see cref="Tensor.Backward"/>) with central
/// finite differences, in float64.
///
/// <para><b>Loss.</b> The op's output <c>y = f(x₁, …, xₘ)</c> is reduced with a random projection
/// <c>L = Σ yₖ·wₖ</c>, where <c>w</c> is a fixed standard-normal tensor (seeded generator), so every
/// output element contributes to every checked derivative with its own weight.</para>
///
/// <para><b>Numeric derivative.</b> For every element <c>j</c> of every input:
/// <c>nⱼ = Σₖ (yₖ(x + ε·eⱼ) − yₖ(x − ε·eⱼ))·wₖ / 2ε</c> with ε = 1e-6. The outputs are subtracted
/// element-wise before the projection, so output elements that the perturbation does not touch cancel
/// exactly and only the touched ones contribute rounding noise (≈ 1e-16·|y|/ε ≈ 1e-10).</para>
///
/// <para><b>Acceptance.</b> Per element, with analytic <c>a</c> and numeric <c>n</c>:
/// <c>err = max(0, |a − n| − δ) / max(|a|, |n|, 1e-3·scale)</c>, where <c>scale</c> is the largest |a|
/// over that input and <c>δ = 4·2⁻⁵³·Σₖ |wₖ|·(|yₖ⁺| + |yₖ⁻|) / 2ε</c> (over the touched outputs) bounds
/// what the rounding of the outputs alone does to the difference quotient: for a scalar loss
/// L ≈ 1 that is ≈ 4e-10, the size of a gradient of 4e-4 times the tolerance. The 1e-3·scale floor
/// keeps derivatives that are (nearly) zero from dividing noise by zero: they are judged relative to
/// the input's typical gradient size. Every element must have <c>err &lt; 1e-6</c>; the largest raw
/// relative error <c>|a − n| / max(|a|, |n|, 1e-3·scale)</c> is what
/// <see cref="Check(Func{Tensor[], Tensor}, Tensor[])"/> returns. A check also fails when an input's
/// analytic gradient is identically zero (a disconnected graph would otherwise pass trivially), unless
/// <c>allowZero</c> is set.</para>
///
/// <para><b>Kinks and ties.</b> Finite differences are only valid where the function is smooth within
/// ±ε. Tests build their inputs away from kinks (|x| ≥ 0.1 for abs/relu, values ≥ 0.1 from clamp
/// bounds, distinct maxima in pools and reductions, no equal pairs in maximum/minimum, sample points
/// off integer pixel positions by construction or with probability one).</para>
/// </summary>
internal static class GradCheck
{
    /// <summary>Finite-difference step.</summary>
    public const double Eps = 1e-6;

    /// <summary>Largest accepted relative error.</summary>
    public const double Tolerance = 1e-6;

    /// <summary>Floor of the denominator, as a fraction of the input's largest analytic gradient.</summary>
    public const double FloorFraction = 1e-3;

    private const ulong ProjectionSeed = 20240917;

    /// <summary>
    /// Checks every element of every input (float64 tensors) of <paramref name="f"/>; returns the largest
    /// relative error seen. Inputs that must not be differentiated (indices, targets) are captured by the
    /// closure instead. <paramref name="f"/> must not modify its arguments in place.
    /// </summary>
    public static double Check(Func<Tensor[], Tensor> f, params Tensor[] inputs) => Check(f, allowZero: false, inputs);

    /// <summary>When the environment names a file here, each check appends "caller worst-error" to it.</summary>
    public const string ReportVariable = "GRADCHECK_REPORT";

    /// <summary>As <see cref="Check(Func{Tensor[], Tensor}, Tensor[])"/>; <paramref name="allowZero"/> accepts an all-zero gradient.</summary>
    public static double Check(Func<Tensor[], Tensor> f, bool allowZero, params Tensor[] inputs)
    {
        using var scope = Scope.Enter();
        var data = new double[inputs.Length][];
        var shapes = new long[inputs.Length][];
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.True(inputs[i].DType == ScalarType.Float64, $"GradCheck input {i} is {inputs[i].Describe()}; gradient checks run in float64");
            data[i] = inputs[i].ToArray<double>();
            shapes[i] = inputs[i].Shape;
        }

        // analytic
        var leaves = new Tensor[inputs.Length];
        for (var i = 0; i < inputs.Length; i++) leaves[i] = Tensor.From(data[i], shapes[i]).RequiresGrad_();
        var output = f(leaves);
        var wData = BackwardProjected(output);
        var analytic = new double[inputs.Length][];
        for (var i = 0; i < inputs.Length; i++)
            analytic[i] = leaves[i].Grad?.ToArray<double>() ?? new double[data[i].Length];

        // numeric: every evaluation builds fresh inputs from data, with element j of input i set to value
        double[] Evaluate(int i, int j, double value)
        {
            using var s = Scope.Enter();
            data[i][j] = value;
            var args = new Tensor[data.Length];
            for (var k = 0; k < data.Length; k++) args[k] = Tensor.From(data[k], shapes[k]);
            return f(args).Contiguous().ToArray<double>();
        }
        return Compare(data, shapes, analytic, wData, Evaluate, allowZero);
    }

    /// <summary>
    /// The same check for tensors that <paramref name="f"/> reads by reference instead of taking as
    /// arguments, typically a module's parameters (float64 leaves that require grad): the analytic
    /// gradient is what <see cref="Tensor.Backward"/> accumulates into them, the numeric one perturbs
    /// each element in place (without recording autograd) and restores it. Existing gradients are
    /// cleared first. <paramref name="f"/> must be deterministic (no dropout, no sampling).
    /// </summary>
    public static double CheckParameters(Func<Tensor> f, IReadOnlyList<Tensor> parameters, bool allowZero = false)
    {
        using var scope = Scope.Enter();
        var data = new double[parameters.Count][];
        var shapes = new long[parameters.Count][];
        for (var i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            Assert.True(p.DType == ScalarType.Float64, $"GradCheck parameter {i} is {p.Describe()}; gradient checks run in float64");
            Assert.True(p.RequiresGrad && p.IsLeaf, $"GradCheck parameter {i} ({p.Describe()}) must be a leaf that requires grad");
            p.ZeroGrad();
            data[i] = p.Detach().Contiguous().ToArray<double>();
            shapes[i] = p.Shape;
        }

        var wData = BackwardProjected(f());
        var analytic = new double[parameters.Count][];
        for (var i = 0; i < parameters.Count; i++)
        {
            analytic[i] = parameters[i].Grad?.ToArray<double>() ?? new double[data[i].Length];
            parameters[i].ZeroGrad();
        }

        void Write(int i)
        {
            using var s = Scope.Enter();
            using var _ = Torch.Torch.NoGrad();
            parameters[i].Copy_(Tensor.From(data[i], shapes[i]));
        }
        double[] Evaluate(int i, int j, double value)
        {
            using var s = Scope.Enter();
            data[i][j] = value;
            Write(i);
            return f().Contiguous().ToArray<double>();
        }
        try
        {
            return Compare(data, shapes, analytic, wData, Evaluate, allowZero, restore: Write);
        }
        finally
        {
            for (var i = 0; i < parameters.Count; i++) Write(i);
        }
    }

    /// <summary>Back-propagates L = Σ y·w for a fixed standard-normal w (seeded) and returns w.</summary>
    private static double[] BackwardProjected(Tensor output)
    {
        Assert.True(output.DType == ScalarType.Float64, $"GradCheck: output is {output.Describe()}, expected float64");
        using var gen = new Generator(ProjectionSeed);
        var w = Torch.Torch.Randn(output.Shape, gen, ScalarType.Float64);
        var wData = w.ToArray<double>();
        output.Mul(w).Sum().Backward();
        return wData;
    }

    /// <summary>
    /// Central differences of every element against <paramref name="analytic"/>; <paramref name="evaluate"/>
    /// returns the outputs with element j of tensor i set to the given value; after both evaluations data[i][j] is
    /// reset and <paramref name="restore"/> (if any) writes tensor i back from data[i].
    /// </summary>
    private static double Compare(double[][] data, long[][] shapes, double[][] analytic, double[] wData,
        Func<int, int, double, double[]> evaluate, bool allowZero, Action<int>? restore = null)
    {
        var worst = 0.0;
        var report = new StringBuilder();
        using (Torch.Torch.NoGrad())
        {
            for (var i = 0; i < data.Length; i++)
            {
                var scale = analytic[i].Max(Math.Abs);
                if (scale == 0 && !allowZero)
                {
                    report.AppendLine(CultureInfo.InvariantCulture, $"input {i} {FormatShape(shapes[i])}: analytic gradient is identically zero");
                    continue;
                }
                var floor = Math.Max(FloorFraction * scale, 1e-12);
                for (var j = 0; j < data[i].Length; j++)
                {
                    var (n, noise) = Numeric(evaluate, data, wData, i, j);
                    restore?.Invoke(i);
                    var a = analytic[i][j];
                    var denominator = Math.Max(Math.Max(Math.Abs(a), Math.Abs(n)), floor);
                    worst = Math.Max(worst, Math.Abs(a - n) / denominator);
                    var err = Math.Max(0, Math.Abs(a - n) - noise) / denominator;
                    if (err >= Tolerance && report.Length < 4000)
                        report.AppendLine(CultureInfo.InvariantCulture, $"input {i} {FormatShape(shapes[i])} element {j}: analytic {a:R} numeric {n:R} (±{noise:E1} rounding) rel.err {err:E3}");
                }
            }
        }
        if (Environment.GetEnvironmentVariable(ReportVariable) is { Length: > 0 } path)
        {
            var caller = new System.Diagnostics.StackTrace().GetFrames()
                .Select(fr => fr.GetMethod()).FirstOrDefault(m => m?.DeclaringType != typeof(GradCheck));
            lock (typeof(GradCheck))
                File.AppendAllText(path, FormattableString.Invariant($"{caller?.DeclaringType?.Name}.{caller?.Name} numel {FormatShape(data.Select(x => (long)x.Length))} {worst:E2}\n"));
        }
        if (report.Length > 0) Assert.Fail($"gradient check failed (ε={Eps}, tolerance {Tolerance}):\n{report}");
        return worst;
    }

    private static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(",", shape) + "]";

    /// <summary>2⁻⁵³, the unit roundoff of float64.</summary>
    private const double Unit = 1.1102230246251565e-16;

    private static (double Value, double Noise) Numeric(Func<int, int, double, double[]> evaluate, double[][] data, double[] w, int i, int j)
    {
        var x0 = data[i][j];
        var plus = evaluate(i, j, x0 + Eps);
        var minus = evaluate(i, j, x0 - Eps);
        data[i][j] = x0;
        double sum = 0, magnitude = 0;
        for (var k = 0; k < w.Length; k++)
        {
            var d = plus[k] - minus[k];
            if (d == 0) continue;
            sum += d * w[k];
            magnitude += Math.Abs(w[k]) * (Math.Abs(plus[k]) + Math.Abs(minus[k]));
        }
        return (sum / (2 * Eps), 4 * Unit * magnitude / (2 * Eps));
    }
}

/// <summary>Deterministic float64 inputs for gradient checks, built away from kinks.</summary>
internal sealed class Inputs : IDisposable
{
    private readonly Generator _gen;

    /// <summary>A source seeded with <paramref name="seed"/>.</summary>
    public Inputs(ulong seed) => _gen = new Generator(seed);

    /// <summary>Standard normal values.</summary>
    public Tensor Randn(params long[] shape) => Torch.Torch.Randn(shape, _gen, ScalarType.Float64);

    /// <summary>Uniform values in [lo, hi).</summary>
    public Tensor Uniform(double lo, double hi, params long[] shape) =>
        Torch.Torch.Rand(shape, _gen, ScalarType.Float64).Mul(hi - lo).Add(lo);

    /// <summary>Normal values pushed away from zero: sign(x)·(gap + |x|).</summary>
    public Tensor AwayFromZero(double gap, params long[] shape)
    {
        var x = Randn(shape);
        return x.Sign().Mul(x.Abs().Add(gap));
    }

    /// <summary>Positive values in [lo, hi).</summary>
    public Tensor Positive(double lo = 0.5, double hi = 2.0, params long[] shape) => Uniform(lo, hi, shape);

    /// <summary>A random permutation of 0..n−1 as float64 plus noise, halved: distinct values at least 0.3 apart.</summary>
    public Tensor Distinct(params long[] shape)
    {
        var n = shape.Aggregate(1L, (a, b) => a * b);
        var perm = Torch.Torch.Randperm(n, _gen).To(ScalarType.Float64);
        return perm.Add(Uniform(0, 0.4, n)).Mul(0.5).Reshape(shape);
    }

    /// <summary>Integers uniform in [low, high).</summary>
    public Tensor Randint(long low, long high, params long[] shape) => Torch.Torch.Randint(low, high, shape, _gen);

    /// <inheritdoc/>
    public void Dispose() => _gen.Dispose();
}
