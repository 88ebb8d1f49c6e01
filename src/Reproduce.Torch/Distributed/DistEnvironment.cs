using System.Globalization;
using System.Text.RegularExpressions;

namespace Reproduce.Torch.Distributed;

/// <summary>
/// Where this process sits in a data-parallel job, read from the variables torchrun sets (<c>RANK</c>,
/// <c>WORLD_SIZE</c>, <c>LOCAL_RANK</c>, <c>LOCAL_WORLD_SIZE</c>, <c>MASTER_ADDR</c>, <c>MASTER_PORT</c>,
/// <c>TORCHELASTIC_USE_AGENT_STORE</c>) or, failing those, from SLURM's (<c>SLURM_PROCID</c>, <c>SLURM_NTASKS</c>,
/// <c>SLURM_LOCALID</c>, <c>SLURM_NTASKS_PER_NODE</c>, the first host of <c>SLURM_JOB_NODELIST</c>; port 29500
/// unless <c>MASTER_PORT</c> is set), as torch.distributed's env:// rendezvous reads them.
/// </summary>
/// <param name="Rank">Global rank, 0 … WorldSize − 1.</param>
/// <param name="WorldSize">Number of processes in the job.</param>
/// <param name="LocalRank">Rank among the processes on this machine (selects the GPU).</param>
/// <param name="LocalWorldSize">Processes on this machine.</param>
/// <param name="MasterAddr">Host of the rendezvous store.</param>
/// <param name="MasterPort">Port of the rendezvous store.</param>
/// <param name="Source">"torchrun" or "slurm": which variables were read.</param>
/// <param name="StoreClientOnly">True when an agent (torchrun's) hosts the store, so rank 0 connects as a client too.</param>
public sealed record DistEnvironment(int Rank, int WorldSize, int LocalRank, int LocalWorldSize, string MasterAddr, int MasterPort,
    bool StoreClientOnly, string Source)
{
    /// <summary>torchrun's default rendezvous port.</summary>
    public const int DefaultPort = 29500;

    /// <summary>The job this process belongs to, or null when neither torchrun's nor SLURM's variables say it is one.</summary>
    public static DistEnvironment? Current => Read(Environment.GetEnvironmentVariable);

    /// <summary>Reads the variables through <paramref name="get"/>; an incomplete or malformed set is an error naming the variable.</summary>
    public static DistEnvironment? Read(Func<string, string?> get)
    {
        ArgumentNullException.ThrowIfNull(get);
        if (get("WORLD_SIZE") is { } worldText && get("RANK") is not null)
        {
            var world = Int(get, "WORLD_SIZE", 1);
            var rank = Int(get, "RANK", 0);
            var addr = get("MASTER_ADDR") ?? throw Missing("MASTER_ADDR", "torchrun");
            var port = Int(get, "MASTER_PORT", 1);
            var local = get("LOCAL_RANK") is null ? rank : Int(get, "LOCAL_RANK", 0);
            var localWorld = get("LOCAL_WORLD_SIZE") is null ? world : Int(get, "LOCAL_WORLD_SIZE", 1);
            var agent = string.Equals(get("TORCHELASTIC_USE_AGENT_STORE"), "true", StringComparison.OrdinalIgnoreCase);
            return Checked(new DistEnvironment(rank, world, local, localWorld, addr, port, agent, "torchrun"));
        }
        if (get("SLURM_PROCID") is not null && get("SLURM_NTASKS") is not null)
        {
            var world = Int(get, "SLURM_NTASKS", 1);
            var rank = Int(get, "SLURM_PROCID", 0);
            var local = get("SLURM_LOCALID") is null ? 0 : Int(get, "SLURM_LOCALID", 0);
            var localWorld = get("SLURM_NTASKS_PER_NODE") is { } perNode && int.TryParse(perNode, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : world;
            var addr = get("MASTER_ADDR") ?? FirstHost(get("SLURM_JOB_NODELIST") ?? get("SLURM_NODELIST") ?? throw Missing("SLURM_JOB_NODELIST", "SLURM"));
            var port = get("MASTER_PORT") is null ? DefaultPort : Int(get, "MASTER_PORT", 1);
            return Checked(new DistEnvironment(rank, world, local, localWorld, addr, port, false, "slurm"));
        }
        return null;
    }

    /// <summary>
    /// The first host of a SLURM node list: <c>gpu[03-05,09],cpu1</c> → <c>gpu03</c>, <c>a1,b2</c> → <c>a1</c>
    /// (the zero padding of the range is kept, as <c>scontrol show hostnames</c> prints it).
    /// </summary>
    public static string FirstHost(string nodeList)
    {
        ArgumentNullException.ThrowIfNull(nodeList);
        var m = Regex.Match(nodeList.Trim(), @"^([^,\[]+)(?:\[([^,\]\-]+))?");
        if (!m.Success || m.Groups[1].Value.Length == 0)
            throw new ArgumentException($"SLURM_JOB_NODELIST: cannot read a host from '{nodeList}'", nameof(nodeList));
        return m.Groups[1].Value + (m.Groups[2].Success ? m.Groups[2].Value : "");
    }

    private static DistEnvironment Checked(DistEnvironment e)
    {
        if (e.Rank >= e.WorldSize)
            throw new ArgumentException($"{(e.Source == "slurm" ? "SLURM_PROCID" : "RANK")}={e.Rank} is not below the world size {e.WorldSize}");
        if (e.MasterPort > 65535) throw new ArgumentException($"MASTER_PORT={e.MasterPort} is not a TCP port");
        return e;
    }

    private static int Int(Func<string, string?> get, string name, int min)
    {
        var text = get(name) ?? throw Missing(name, "torchrun");
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < min)
            throw new ArgumentException($"{name}='{text}' is not an integer ≥ {min}");
        return v;
    }

    private static ArgumentException Missing(string name, string launcher) =>
        new($"{name} is not set, but the other {launcher} variables are; set it (or launch through `reproduce launch`, torchrun or srun)");
}
