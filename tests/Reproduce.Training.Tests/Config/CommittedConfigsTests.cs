using Reproduce.Training.Config;

namespace Reproduce.Training.Tests.Config;

/// <summary>Every committed configuration still loads and resolves its model: configs/*.json and each run's config.json under results/.</summary>
public class CommittedConfigsTests
{
    private static string Root()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Reproduce.sln"))) root = root.Parent;
        return root?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    public static TheoryData<string> ConfigFiles() => new(Directory.GetFiles(Path.Combine(Root(), "configs"), "*.json").Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(ConfigFiles))]
    public void ConfigsLoad(string file)
    {
        var c = RunConfig.Load(Path.Combine(Root(), "configs", file));
        Assert.NotNull(c.Model.Resolve().Config);
    }

    [Fact]
    public void EveryCommittedRunConfigLoadsAndResolvesItsModel()
    {
        // Token-label stores keep a config.json of their own (the annotate command), not a run configuration.
        var files = Directory.GetFiles(Path.Combine(Root(), "results"), "config.json", SearchOption.AllDirectories)
            .Where(f => !File.ReadAllText(f).Contains("\"command\"", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(files);
        foreach (var f in files)
        {
            var c = RunConfig.FromJson(File.ReadAllText(f), f);
            c.Model.Resolve();
            Assert.DoesNotContain("\"overrides\"", c.ToCanonicalJson());
            Assert.Equal(c.Hash(), RunConfig.FromJson(ConfigJson.Indented(c)).Hash());
        }
    }
}
