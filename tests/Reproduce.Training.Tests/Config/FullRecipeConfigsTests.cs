using System.Text.RegularExpressions;
using Reproduce.Training.Config;

namespace Reproduce.Training.Tests.Config;

/// <summary>
/// The full profile's recipes under configs/full: each loads as a run configuration of the full profile, and every
/// value it sets carries a comment on its line saying where the value comes from (the loader skips JSON comments).
/// </summary>
public partial class FullRecipeConfigsTests
{
    private static string Dir()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Reproduce.sln"))) root = root.Parent;
        return Path.Combine(root?.FullName ?? throw new InvalidOperationException("repository root not found"), "configs", "full");
    }

    public static TheoryData<string> Files() => new(Directory.GetFiles(Dir(), "*.json").Select(Path.GetFileName)!);

    [Fact]
    public void TheRecipesOfTheFullProfileAreCommitted() =>
        Assert.Superset(new HashSet<string>(["lvvit-s-imagenet.json", "deit-s-imagenet.json", "vit-b16-imagenet.json"]), Directory.GetFiles(Dir(), "*.json").Select(f => Path.GetFileName(f)).ToHashSet());

    [Theory]
    [MemberData(nameof(Files))]
    public void LoadsAsAFullProfileRunConfig(string file)
    {
        var c = RunConfig.Load(Path.Combine(Dir(), file));
        Assert.Equal(Profile.Full, c.Profile);
        Assert.Equal("cuda", c.Device);
        Assert.NotNull(c.Model.Resolve().Config);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryValueCitesItsSource(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(Dir(), file));
        var values = lines.Select((l, i) => (Text: l, Line: i + 1)).Where(l => Value().IsMatch(l.Text)).ToList();
        Assert.NotEmpty(values);
        foreach (var (text, line) in values)
            Assert.True(text.Contains("//", StringComparison.Ordinal), $"{file}:{line}: the value has no source comment: {text.Trim()}");
    }

    // A line setting a key to a value (not opening an object or a list).
    [GeneratedRegex("^\\s*\"[a-z_]+\"\\s*:\\s*[^\\s{\\[]")]
    private static partial Regex Value();
}
