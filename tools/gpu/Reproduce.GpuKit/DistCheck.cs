using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Reproduce.Torch;
using Reproduce.Torch.Distributed;

namespace Reproduce.GpuKit;

/// <summary>
/// A process group of world size 1, and 2 where the machine allows it (two GPUs for NCCL; always on the CPU with
/// Gloo): the kit starts the ranks itself with the torchrun variables (RANK, WORLD_SIZE, LOCAL_RANK,
/// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), as <c>reproduce launch</c> does, since the launcher lives in the F# CLI
/// that the kit does not carry. Each rank joins through <see cref="ProcessGroup.Init"/>, all-reduces rank + 1 and
/// broadcasts from rank 0 on its device (<c>cuda:LOCAL_RANK</c> for NCCL), and checks both results.
/// </summary>
internal static class DistCheck
{
    public const string ChildFlag = "--dist-rank";

    public static void Run(KitReport report, bool cpu, int maxWorld, TimeSpan timeout)
    {
        if (ProcessGroup.UnavailableReason is { } why)
        {
            report.Skipped.Add("process group: " + why);
            return;
        }
        var backend = cpu ? "gloo" : ProcessGroup.HasNccl ? "nccl" : "gloo";
        if (!cpu && backend == "gloo") report.Skipped.Add("NCCL: this native build has no NCCL (no nccl.h found at build time); the GPU group uses Gloo");
        var gpus = cpu ? int.MaxValue : Cuda.DeviceCount;
        foreach (var world in new[] { 1, 2 }.Where(w => w <= maxWorld))
        {
            if (world > gpus)
            {
                report.Skipped.Add($"process group of world size {world}: the machine has {gpus} GPU(s)");
                continue;
            }
            var sw = Stopwatch.StartNew();
            var (ok, detail) = Launch(world, backend, cpu, timeout);
            report.Add(new Check("dist", $"{backend} world size {world} (all-reduce, broadcast)", ok, null,
                detail + string.Create(CultureInfo.InvariantCulture, $"; {sw.Elapsed.TotalSeconds:F1} s")));
        }
    }

    private static (bool Ok, string Detail) Launch(int world, string backend, bool cpu, TimeSpan timeout)
    {
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }
        var (exe, prefix) = Self();
        var ranks = new List<(Process P, Task<string> Out, Task<string> Err)>();
        for (var r = 0; r < world; r++)
        {
            var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in prefix.Concat([ChildFlag, backend, cpu ? "cpu" : "cuda"])) psi.ArgumentList.Add(a);
            foreach (var (k, v) in new Dictionary<string, string>
            {
                ["RANK"] = $"{r}", ["WORLD_SIZE"] = $"{world}", ["LOCAL_RANK"] = $"{r}", ["LOCAL_WORLD_SIZE"] = $"{world}", ["GROUP_RANK"] = "0",
                ["MASTER_ADDR"] = "127.0.0.1", ["MASTER_PORT"] = port.ToString(CultureInfo.InvariantCulture),
                ["REPRODUCE_THREADS"] = Math.Max(1, Environment.ProcessorCount / world).ToString(CultureInfo.InvariantCulture),
            })
                psi.Environment[k] = v;
            var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start a rank");
            ranks.Add((p, p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync()));
        }
        var deadline = DateTime.UtcNow + timeout;
        var lines = new List<string>();
        var ok = true;
        for (var r = 0; r < world; r++)
        {
            var (p, stdout, stderr) = ranks[r];
            if (!p.WaitForExit(Math.Max(0, (int)(deadline - DateTime.UtcNow).TotalMilliseconds)))
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit();
                lines.Add($"rank {r}: timed out after {timeout.TotalSeconds:F0} s");
                ok = false;
                continue;
            }
            var last = stdout.Result.Split('\n').LastOrDefault(l => l.StartsWith("DIST ", StringComparison.Ordinal));
            if (p.ExitCode != 0 || last is null)
            {
                ok = false;
                lines.Add($"rank {r}: exit {p.ExitCode}: {(stderr.Result + stdout.Result).Trim().Split('\n').LastOrDefault()}");
            }
            else if (r == 0) lines.Add(last["DIST ".Length..]);
        }
        foreach (var (p, _, _) in ranks) p.Dispose();
        return (ok, string.Join("; ", lines));
    }

    /// <summary>The command that runs this same program: the apphost itself, or <c>dotnet Reproduce.GpuKit.dll</c>.</summary>
    private static (string Exe, string[] Prefix) Self()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        return Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? (path, [Path.Combine(AppContext.BaseDirectory, "Reproduce.GpuKit.dll")])
            : (path, []);
    }

    /// <summary>One rank (started by <see cref="Run"/>): joins, all-reduces, broadcasts, checks, prints <c>DIST …</c>.</summary>
    public static int Child(string backend, string deviceKind)
    {
        var env = DistEnvironment.Current ?? throw new InvalidOperationException("the torchrun variables are not set");
        var device = deviceKind == "cpu" ? Device.Cpu : Device.Cuda(env.LocalRank);
        using var pg = ProcessGroup.Init(env, TimeSpan.FromSeconds(60), backend);
        using var scope = Scope.Enter();
        var t = Torch.Torch.Full([1024], env.Rank + 1, device: device);
        pg.AllReduce(t).Wait();
        var want = env.WorldSize * (env.WorldSize + 1) / 2.0;
        var sumErr = t.Sub(want).Abs().Max().ToDouble();
        var b = Torch.Torch.Full([16], env.Rank == 0 ? 7.0 : -1.0, device: device);
        pg.Broadcast(b, 0).Wait();
        var bErr = b.Sub(7.0).Abs().Max().ToDouble();
        pg.Barrier();
        var ok = sumErr == 0 && bErr == 0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"DIST rank {env.Rank}/{env.WorldSize} on {device}: all-reduce sum {(sumErr == 0 ? "ok" : $"off by {sumErr}")} (expected {want}), broadcast {(bErr == 0 ? "ok" : $"off by {bErr}")}"));
        return ok ? 0 : 1;
    }
}
