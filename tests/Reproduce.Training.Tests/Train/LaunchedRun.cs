using System.Diagnostics;
using System.Text;

namespace Reproduce.Training.Tests.Train;

/// <summary>A <c>reproduce</c> subprocess (the launcher, or a plain command) whose output is collected as it runs.</summary>
internal sealed class LaunchedRun : IDisposable
{
    private readonly Process _p;
    private readonly StringBuilder _out = new();

    private LaunchedRun(Process p) => _p = p;

    /// <summary>The repository root (where configs/ is), found above the CLI's build output.</summary>
    public static string RepoRoot { get; } = FindRoot();

    public int Pid => _p.Id;

    public static LaunchedRun Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepoRoot };
        psi.ArgumentList.Add(CliRunner.Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["REPRODUCE_DIST_TIMEOUT"] = "60";
        psi.Environment["REPRODUCE_THREADS"] = "1"; // the same float reductions in every run, whatever the launcher shape
        var p = new Process { StartInfo = psi };
        var run = new LaunchedRun(p);
        p.OutputDataReceived += (_, e) => run.Append(e.Data);
        p.ErrorDataReceived += (_, e) => run.Append(e.Data);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return run;
    }

    /// <summary>Runs to completion (at most <paramref name="seconds"/>) and returns the exit code.</summary>
    public static (int Code, string Output) Run(double seconds, params string[] args)
    {
        using var r = Start(args);
        return (r.Wait(seconds), r.Output);
    }

    public string Output
    {
        get
        {
            lock (_out) return _out.ToString();
        }
    }

    public bool HasExited => _p.HasExited;

    public int Wait(double seconds)
    {
        if (!_p.WaitForExit(TimeSpan.FromSeconds(seconds)))
        {
            _p.Kill(entireProcessTree: true);
            throw new TimeoutException($"reproduce did not finish in {seconds} s; output:\n{Output}");
        }
        _p.WaitForExit();
        return _p.ExitCode;
    }

    /// <summary>The child processes of this one whose environment has <c>RANK=<paramref name="rank"/></c> (Linux /proc).</summary>
    public int ChildWithRank(int rank)
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                if (ppid != _p.Id) continue;
                var env = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (env.Contains($"RANK={rank}")) return pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        throw new InvalidOperationException($"no child process with RANK={rank} under pid {_p.Id}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_out) _out.AppendLine(line);
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(Path.GetDirectoryName(CliRunner.Dll)!); d is not null; d = d.Parent)
            if (Directory.Exists(Path.Combine(d.FullName, "configs")) && File.Exists(Path.Combine(d.FullName, "build.fsx"))) return d.FullName;
        throw new DirectoryNotFoundException($"no repository root above {CliRunner.Dll}");
    }

    public void Dispose()
    {
        if (!_p.HasExited) _p.Kill(entireProcessTree: true);
        _p.Dispose();
    }
}
