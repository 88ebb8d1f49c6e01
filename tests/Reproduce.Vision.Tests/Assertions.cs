namespace Reproduce.Vision.Tests;

internal static class Assertions
{
    /// <summary>Asserts equal shapes and max |actual − expected| ≤ <paramref name="tol"/>, reporting the worst element.</summary>
    public static void Close(TensorData expected, Tensor actual, double tol, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        float[] got;
        using (Scope.Enter()) got = actual.Detach().Contiguous().ToArray<float>();
        var worst = 0.0;
        var at = -1;
        for (var i = 0; i < got.Length; i++)
        {
            var d = Math.Abs((double)got[i] - expected.Data[i]);
            if (double.IsNaN(d) || d > worst) { worst = double.IsNaN(d) ? double.PositiveInfinity : d; at = i; }
        }
        Assert.True(worst <= tol, $"{what}: max |Δ| = {worst:G4} at flat index {at} (got {(at >= 0 ? got[at] : 0)}, expected {(at >= 0 ? expected.Data[at] : 0)}), tolerance {tol:G2}");
    }
}
