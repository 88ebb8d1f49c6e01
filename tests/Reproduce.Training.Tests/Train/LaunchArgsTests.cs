namespace Reproduce.Training.Tests.Train;

/// <summary>`reproduce launch` refuses a bad command line before starting anything, naming the problem.</summary>
public class LaunchArgsTests
{
    [Theory]
    [InlineData("launch: no command after `--`", "launch", "--nproc-per-node", "2")]
    [InlineData("launch: unknown option '--gpus'", "launch", "--gpus", "2", "--", "train")]
    [InlineData("launch: --nproc-per-node expects an integer, got 'two'", "launch", "--nproc-per-node", "two", "--", "train")]
    [InlineData("launch: --node-rank 2 is outside 0..1 (--nnodes 2)", "launch", "--nnodes", "2", "--node-rank", "2", "--", "train")]
    [InlineData("launch: 'info' does not run data-parallel; launch train, eval, probe or annotate", "launch", "--", "info")]
    public void BadLaunchCommandLinesAreRefused(string message, params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
    }
}
