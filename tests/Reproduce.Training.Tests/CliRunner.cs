using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace Reproduce.Training.Tests;

/// <summary>What one run of the <c>reproduce</c> CLI gave.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The last non-empty stdout line parsed as JSON (the commands' result object).</summary>
    public JsonElement LastJson()
    {
        var last = Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()
            ?? throw new Xunit.Sdk.XunitException($"no stdout; stderr: {Stderr}");
        using var doc = JsonDocument.Parse(last);
        return doc.RootElement.Clone();
    }
}

/// <summary>
/// Runs the built CLI (<c>dotnet reproduce.dll</c>, the path baked in by the test project) as a subprocess, so that
/// tests see exactly what a user sees: exit code, stdout and stderr.
/// </summary>
internal static class CliRunner
{
    internal static readonly string Dll = typeof(CliRunner).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "ReproduceCliDll").Value!;

    public static CliResult Run(params string[] args)
    {
        Assert.True(File.Exists(Dll), $"the CLI is not built: {Dll}");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMP_NUM_THREADS"] = "1";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"reproduce {string.Join(' ', args)} did not finish in 120 s");
        }
        return new CliResult(p.ExitCode, stdout.Result, stderr.Result);
    }
}
