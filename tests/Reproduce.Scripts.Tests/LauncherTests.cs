using System.Diagnostics;
using System.Runtime.Versioning;

namespace Reproduce.Scripts.Tests;

/// <summary>
/// The <c>./reproduce</c> launcher's staleness check, in a copy of the launcher over a miniature tree with a stand-in
/// <c>dotnet</c> on PATH that records each call: it builds when the CLI is missing or a source is newer than it, never
/// for files under obj/ or bin/ (build outputs), and once built it does not build again. Scripts call
/// <c>./reproduce --build-only</c> at start, so a check that always fires costs a solution build per script run.
/// </summary>
[UnsupportedOSPlatform("windows")] // the launcher is a bash script
public sealed class LauncherTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly DateTime _past = DateTime.UtcNow.AddHours(-2);

    public LauncherTests()
    {
        File.Copy(Path.Combine(FsiRunner.RepoRoot, "reproduce"), _dir["reproduce"]);
        File.SetUnixFileMode(_dir["reproduce"], UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(_dir["bin"]);
        // The stand-in dotnet: logs its arguments; a build writes the CLI dll (with the mtime of "now").
        File.WriteAllText(_dir["bin/dotnet"], $$"""
            #!/usr/bin/env bash
            echo "$*" >> "{{_dir["calls.log"]}}"
            if [[ "$1" == fsi ]]; then mkdir -p "{{Path.GetDirectoryName(Dll)}}" && : > "{{Dll}}"; fi
            """.ReplaceLineEndings("\n"));
        File.SetUnixFileMode(_dir["bin/dotnet"], UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var f in new[] { "Directory.Build.props", "Directory.Packages.props", "src/Reproduce.Torch/Tensor.cs", "src/native/rn_api.h" })
            Source(f, _past);
    }

    public void Dispose() => _dir.Dispose();

    private string Dll => _dir["src/Reproduce.Cli/bin/Release/net10.0/reproduce.dll"];

    private void Source(string relative, DateTime time)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_dir[relative])!);
        File.WriteAllText(_dir[relative], "");
        File.SetLastWriteTimeUtc(_dir[relative], time);
    }

    /// <summary>Runs <c>./reproduce --build-only</c>; returns how many builds it started.</summary>
    private int BuildsStarted()
    {
        var before = File.Exists(_dir["calls.log"]) ? File.ReadAllLines(_dir["calls.log"]).Length : 0;
        var psi = new ProcessStartInfo(_dir["reproduce"], "--build-only") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["PATH"] = _dir["bin"] + ":" + Environment.GetEnvironmentVariable("PATH");
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"./reproduce --build-only: exit {p.ExitCode}\n{stderr.Result}");
        var calls = File.Exists(_dir["calls.log"]) ? File.ReadAllLines(_dir["calls.log"]) : [];
        Assert.All(calls, c => Assert.Equal($"fsi {_dir["build.fsx"]} build", c));
        return calls.Length - before;
    }

    [Fact]
    public void BuildsWhenTheCliIsMissingThenNotAgain()
    {
        Assert.Equal(1, BuildsStarted());
        Assert.True(File.Exists(Dll));
        Assert.Equal(0, BuildsStarted());
    }

    [Fact]
    public void BuildOutputsUnderObjAndBinAreNotSources()
    {
        BuildsStarted();
        var later = DateTime.UtcNow.AddMinutes(5);
        Source("src/Reproduce.Training/obj/Release/net10.0/Reproduce.Training.AssemblyInfo.cs", later);
        Source("src/Reproduce.Training/obj/Reproduce.Training.csproj.nuget.g.props", later);
        Source("src/Reproduce.Torch/bin/Release/net10.0/Generated.cs", later);
        Assert.Equal(0, BuildsStarted());
    }

    [Theory]
    [InlineData("src/Reproduce.Torch/Tensor.cs")]
    [InlineData("src/Reproduce.Cli/Program.fs")]
    [InlineData("src/Reproduce.Vision/Reproduce.Vision.csproj")]
    [InlineData("src/native/rn_api.h")]
    [InlineData("src/native/CMakeLists.txt")]
    [InlineData("Directory.Packages.props")]
    public void ANewerSourceBuildsOnceEvenWhenTheBuildLeavesTheDllUnchanged(string source)
    {
        BuildsStarted();
        // The build below writes nothing new (as an incremental build of an unchanged assembly): the launcher's stamp
        // alone must keep the next call from building again.
        File.WriteAllText(_dir["bin/dotnet"], $"#!/usr/bin/env bash\necho \"$*\" >> \"{_dir["calls.log"]}\"\n");
        File.SetLastWriteTimeUtc(Dll, _past.AddMinutes(30));
        Source(source, _past.AddMinutes(60));
        Assert.Equal(1, BuildsStarted());
        Assert.Equal(0, BuildsStarted());
    }
}
