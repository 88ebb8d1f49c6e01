namespace Reproduce.Scripts.Tests;

/// <summary>scripts/lib (arguments, statistics, Δ pairing, run hashes, last-line JSON results, dataset roots, file sizes), checked by
/// LibChecks.fsx in one fsi session.</summary>
public sealed class LibTests
{
    [Fact]
    public void LibraryChecksPass()
    {
        var r = FsiRunner.Run("tests/Reproduce.Scripts.Tests/LibChecks.fsx");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("all lib checks passed", r.Stdout);
    }
}
