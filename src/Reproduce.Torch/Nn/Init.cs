namespace Reproduce.Torch.Nn;

/// <summary>Weight initialisers (in place, without recording autograd), matching torch.nn.init and timm.</summary>
public static class Init
{
    /// <summary>(fan_in, fan_out) of a weight: dims 1 and 0 times the receptive field size.</summary>
    public static (long FanIn, long FanOut) Fans(Tensor w)
    {
        var s = w.Shape;
        if (s.Length < 2) throw new ArgumentException($"Init: fan in/out need at least 2 dimensions, got {w.Describe()}");
        var receptive = s.Skip(2).Aggregate(1L, (a, b) => a * b);
        return (s[1] * receptive, s[0] * receptive);
    }

    /// <summary>
    /// Truncated normal N(mean, std²) restricted to [a, b] (absolute bounds, as timm's trunc_normal_),
    /// by inverse-CDF sampling: u ~ U(Φ(a'), Φ(b')), x = mean + std·√2·erfinv(2u − 1).
    /// </summary>
    public static Tensor TruncNormal_(Tensor t, double mean = 0, double std = 1, double a = -2, double b = 2, Generator? generator = null)
    {
        static double Cdf(double x) => (1 + Erf(x / Math.Sqrt(2))) / 2;
        var lo = Cdf((a - mean) / std);
        var hi = Cdf((b - mean) / std);
        using var _ = Torch.NoGrad();
        t.Uniform_(2 * lo - 1, 2 * hi - 1, generator).Erfinv_().Mul_(std * Math.Sqrt(2)).Add_(mean).Clamp_(a, b);
        return t;
    }

    /// <summary>Uniform on [a, b).</summary>
    public static Tensor Uniform_(Tensor t, double a = 0, double b = 1, Generator? generator = null)
    {
        using var _ = Torch.NoGrad();
        return t.Uniform_(a, b, generator);
    }

    /// <summary>Normal(mean, std²).</summary>
    public static Tensor Normal_(Tensor t, double mean = 0, double std = 1, Generator? generator = null)
    {
        using var _ = Torch.NoGrad();
        return t.Normal_(mean, std, generator);
    }

    /// <summary>Constant fill.</summary>
    public static Tensor Constant_(Tensor t, double value)
    {
        using var _ = Torch.NoGrad();
        return t.Fill_(value);
    }

    /// <summary>Zeros.</summary>
    public static Tensor Zeros_(Tensor t) => Constant_(t, 0);

    /// <summary>Ones.</summary>
    public static Tensor Ones_(Tensor t) => Constant_(t, 1);

    /// <summary>Xavier/Glorot uniform: bound = gain·√(6/(fan_in + fan_out)).</summary>
    public static Tensor XavierUniform_(Tensor t, double gain = 1, Generator? generator = null)
    {
        var (fi, fo) = Fans(t);
        var bound = gain * Math.Sqrt(6.0 / (fi + fo));
        return Uniform_(t, -bound, bound, generator);
    }

    /// <summary>Xavier/Glorot normal: std = gain·√(2/(fan_in + fan_out)).</summary>
    public static Tensor XavierNormal_(Tensor t, double gain = 1, Generator? generator = null)
    {
        var (fi, fo) = Fans(t);
        return Normal_(t, 0, gain * Math.Sqrt(2.0 / (fi + fo)), generator);
    }

    /// <summary>Leaky-ReLU gain √(2/(1+a²)) (a = 0: ReLU).</summary>
    public static double Gain(double negativeSlope = 0) => Math.Sqrt(2.0 / (1 + negativeSlope * negativeSlope));

    /// <summary>Kaiming/He uniform: bound = gain·√(3/fan), fan_in or fan_out.</summary>
    public static Tensor KaimingUniform_(Tensor t, double a = 0, bool fanOut = false, Generator? generator = null)
    {
        var (fi, fo) = Fans(t);
        var bound = Gain(a) * Math.Sqrt(3.0 / (fanOut ? fo : fi));
        return Uniform_(t, -bound, bound, generator);
    }

    /// <summary>Kaiming/He normal: std = gain/√fan (ResNet's fan_out, ReLU).</summary>
    public static Tensor KaimingNormal_(Tensor t, double a = 0, bool fanOut = false, Generator? generator = null)
    {
        var (fi, fo) = Fans(t);
        return Normal_(t, 0, Gain(a) / Math.Sqrt(fanOut ? fo : fi), generator);
    }

    /// <summary>Abramowitz–Stegun-free erf via the relation to the regularised gamma function; accurate to 1e-15.</summary>
    internal static double Erf(double x)
    {
        // Series for |x| < 3, continued fraction beyond: enough for bound computations.
        if (Math.Abs(x) < 3)
        {
            double sum = x, term = x, x2 = x * x;
            for (var n = 1; n < 200; n++)
            {
                term *= -x2 / n;
                var add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }
        var ax = Math.Abs(x);
        double f = 0;
        for (var n = 60; n >= 1; n--) f = n / 2.0 / (ax + f);
        var erfc = Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f);
        return Math.Sign(x) * (1 - erfc);
    }
}
