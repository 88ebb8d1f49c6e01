using System.Diagnostics;
using System.Reflection;

namespace Reproduce.Scripts.Tests;

/// <summary>What one `dotnet fsi` run gave.</summary>
internal sealed record FsiResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs an F# script of the repository with <c>dotnet fsi</c> in the repository root.</summary>
internal static class FsiRunner
{
    public static readonly string RepoRoot = typeof(FsiRunner).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepoRoot").Value!;

    public static FsiResult Run(string script, params string[] args) => RunWith(script, new Dictionary<string, string>(), args);

    /// <summary>As <see cref="Run"/>, with extra environment variables.</summary>
    public static FsiResult RunWith(string script, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepoRoot };
        foreach (var (key, value) in environment) psi.Environment[key] = value;
        psi.ArgumentList.Add("fsi");
        psi.ArgumentList.Add(Path.Combine(RepoRoot, script));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet fsi");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet fsi {script} did not finish in 5 minutes");
        }
        return new FsiResult(p.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>A fresh directory under the system temp directory, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "reproduce-scripts-tests", Guid.NewGuid().ToString("N"));

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
