namespace Reproduce.Vision.Data;

/// <summary>
/// Seeding and sampling helpers for the data pipeline. Every random choice in transforms, mixing and
/// loading draws from an explicit <see cref="Random"/>, so a result is a pure function of its seed.
/// Seeds are derived with SplitMix64, so (seed, epoch, position) → stream is independent of thread
/// timing and worker count. The distributions mirror the Python calls timm makes (random.uniform,
/// random.randint, random.gauss, np.random.beta); the streams themselves differ from Python's.
/// </summary>
public static class DataRandom
{
    /// <summary>One SplitMix64 step: a well-mixed 64-bit value from <paramref name="x"/>.</summary>
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>Combines several values into one seed (order matters).</summary>
    public static ulong Combine(params ReadOnlySpan<ulong> parts)
    {
        var h = 0x243F6A8885A308D3UL;
        foreach (var p in parts) h = Mix(h ^ Mix(p));
        return h;
    }

    /// <summary>A <see cref="Random"/> whose stream is fixed by the given parts (e.g. seed, epoch, position).</summary>
    public static Random Create(params ReadOnlySpan<ulong> parts)
    {
        // Random(int) uses the stable legacy algorithm, identical on every .NET version.
        var h = Combine(parts);
        return new Random((int)(h ^ (h >> 32)) & int.MaxValue);
    }

    /// <summary>Uniform on [a, b) (Python's random.uniform).</summary>
    public static double Uniform(this Random rng, double a, double b) => a + (b - a) * rng.NextDouble();

    /// <summary>Integer uniform on [lo, hi], both inclusive (Python's random.randint).</summary>
    public static int RandInt(this Random rng, int lo, int hiInclusive)
    {
        if (hiInclusive < lo) throw new ArgumentOutOfRangeException(nameof(hiInclusive), $"RandInt: empty range [{lo}, {hiInclusive}]");
        return rng.Next(lo, hiInclusive + 1);
    }

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public static bool Chance(this Random rng, double p) => rng.NextDouble() < p;

    /// <summary>Normal N(mean, std²) by the Box–Muller transform (Python's random.gauss).</summary>
    public static double Gaussian(this Random rng, double mean = 0, double std = 1)
    {
        var u1 = 1.0 - rng.NextDouble(); // (0, 1]
        var u2 = rng.NextDouble();
        return mean + std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Gamma(shape, 1) by Marsaglia and Tsang's method (boosted for shape &lt; 1).</summary>
    public static double Gamma(this Random rng, double shape)
    {
        if (!(shape > 0)) throw new ArgumentOutOfRangeException(nameof(shape), $"Gamma: shape must be > 0, got {shape}");
        if (shape < 1)
        {
            // Gamma(a) = Gamma(a + 1) · U^(1/a).
            var u = 1.0 - rng.NextDouble();
            return rng.Gamma(shape + 1) * Math.Pow(u, 1.0 / shape);
        }
        var d = shape - 1.0 / 3.0;
        var c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = rng.Gaussian();
                v = 1.0 + c * x;
            } while (v <= 0);
            v = v * v * v;
            var u = rng.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x) return d * v;
            if (Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    /// <summary>Beta(α, β) as X/(X+Y) with X ~ Gamma(α), Y ~ Gamma(β) (numpy's np.random.beta).</summary>
    public static double Beta(this Random rng, double alpha, double beta)
    {
        var x = rng.Gamma(alpha);
        var y = rng.Gamma(beta);
        return x + y > 0 ? x / (x + y) : 0.5;
    }

    /// <summary>A uniformly random permutation of 0..n−1 (Fisher–Yates).</summary>
    public static int[] Permutation(this Random rng, int n)
    {
        var p = new int[n];
        for (var i = 0; i < n; i++) p[i] = i;
        for (var i = n - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
