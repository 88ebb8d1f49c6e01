using Reproduce.Torch.Distributed;

namespace Reproduce.Torch.Tests;

public class DistEnvironmentTests
{
    private static Func<string, string?> Vars(params (string Key, string Value)[] vars)
    {
        var d = vars.ToDictionary(v => v.Key, v => v.Value);
        return k => d.TryGetValue(k, out var v) ? v : null;
    }

    [Fact]
    public void TorchrunVariables()
    {
        var e = DistEnvironment.Read(Vars(("RANK", "3"), ("WORLD_SIZE", "4"), ("LOCAL_RANK", "1"), ("LOCAL_WORLD_SIZE", "2"),
            ("MASTER_ADDR", "node7"), ("MASTER_PORT", "29400"), ("TORCHELASTIC_USE_AGENT_STORE", "True")))!;
        Assert.Equal(new DistEnvironment(3, 4, 1, 2, "node7", 29400, true, "torchrun"), e);
    }

    [Fact]
    public void SlurmVariablesWithTheFirstHostOfTheNodeList()
    {
        var e = DistEnvironment.Read(Vars(("SLURM_PROCID", "5"), ("SLURM_NTASKS", "8"), ("SLURM_LOCALID", "1"),
            ("SLURM_NTASKS_PER_NODE", "4"), ("SLURM_JOB_NODELIST", "gpu[03-05,09],cpu1")))!;
        Assert.Equal(new DistEnvironment(5, 8, 1, 4, "gpu03", DistEnvironment.DefaultPort, false, "slurm"), e);
        Assert.Equal("a1", DistEnvironment.FirstHost("a1,b2"));
        Assert.Equal("n12", DistEnvironment.FirstHost("n[12]"));
    }

    [Fact]
    public void NoVariablesMeansOneProcess() => Assert.Null(DistEnvironment.Read(Vars(("HOME", "/root"))));

    [Fact]
    public void BadOrMissingVariablesAreNamed()
    {
        var missing = Assert.Throws<ArgumentException>(() => DistEnvironment.Read(Vars(("RANK", "0"), ("WORLD_SIZE", "2"), ("MASTER_PORT", "1"))));
        Assert.Contains("MASTER_ADDR", missing.Message, StringComparison.Ordinal);
        var outside = Assert.Throws<ArgumentException>(() => DistEnvironment.Read(Vars(("RANK", "2"), ("WORLD_SIZE", "2"), ("MASTER_ADDR", "h"), ("MASTER_PORT", "1"))));
        Assert.Contains("RANK=2", outside.Message, StringComparison.Ordinal);
        var bad = Assert.Throws<ArgumentException>(() => DistEnvironment.Read(Vars(("RANK", "x"), ("WORLD_SIZE", "2"), ("MASTER_ADDR", "h"), ("MASTER_PORT", "1"))));
        Assert.Contains("RANK='x'", bad.Message, StringComparison.Ordinal);
    }
}
