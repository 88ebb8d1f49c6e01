namespace Reproduce.Scripts.Tests;

/// <summary>
/// The libtorch 2.x compile gate (tools/torch2/check.fsx) on the probes in tests/fixtures/torch2-probe: each unguarded
/// 1.13 use fails naming its file and line, and the same uses behind version guards pass. The gate fetches trixie's
/// headers into build/torch2 when they are not there yet (the Debian mirror must be reachable once).
/// </summary>
public class Torch2GateTests
{
    private const string Probes = "tests/fixtures/torch2-probe/";

    [Fact]
    public void UnguardedLibtorch113UsesFailNamingFileAndLineAndGuardedOnesPass()
    {
        var r = FsiRunner.Run("tools/torch2/check.fsx",
            Probes + "guarded.cpp", Probes + "unguarded_removed_api.cpp", Probes + "unguarded_removed_header.cpp", Probes + "unguarded_deprecated_api.cpp");
        Assert.True(r.ExitCode == 1, r.ToString());
        var all = r.Stdout + r.Stderr;
        Assert.Contains("ok " + Probes + "guarded.cpp", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("3 of the compiles against trixie's libtorch headers failed", r.Stderr, StringComparison.Ordinal);
        // g++'s own location of each error: the probe file and the line of the 1.13 use
        Assert.Matches(@"unguarded_removed_api\.cpp:5:\d+: error: .*is_ort", all);
        Assert.Matches(@"In file included from " + Probes.Replace(".", @"\.") + @"unguarded_removed_header\.cpp:2:", all);
        Assert.Contains("<c10/util/variant.h> is a libtorch 1.13 header", all, StringComparison.Ordinal);
        Assert.Matches(@"unguarded_deprecated_api\.cpp:5:\d+: error: .*set_autocast_gpu_dtype.*deprecated", all);
    }

    [Fact]
    public void AMissingFileIsAClearError()
    {
        var r = FsiRunner.Run("tools/torch2/check.fsx", Probes + "no_such_probe.cpp");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("no such file: " + Probes + "no_such_probe.cpp", r.Stderr, StringComparison.Ordinal);
    }
}
