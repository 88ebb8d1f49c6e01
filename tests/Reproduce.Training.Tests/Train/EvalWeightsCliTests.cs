using System.Text.Json;

namespace Reproduce.Training.Tests.Train;

/// <summary>
/// <c>reproduce eval --model deit_small_patch16_224 --weights X.pth --data imagenet --root DIR</c> on a class-folder tree
/// gives the top-1 / top-5 of a torchvision-style PyTorch evaluation (PIL bicubic resize to 256, centre crop 224, crop_pct
/// 0.875) of the same file and images (tests/fixtures/deit_eval/make_deit_eval.py; DeiT's release layout of
/// deit_small_patch16_224 at width 16, depth 2, given to the command as model.* keys).
/// </summary>
[Collection(nameof(SerialTests))]
public class EvalWeightsCliTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "deit_eval", name);

    [Fact]
    public void TopOneAndTopFiveEqualThePyTorchEvaluation()
    {
        using var expected = JsonDocument.Parse(File.ReadAllText(Fixture("expected.json")));
        var e = expected.RootElement;
        var sets = e.GetProperty("model_sets").EnumerateObject().SelectMany(p => new[] { "--set", $"model.{p.Name}={p.Value.GetInt32()}" });
        var r = CliRunner.Run(["eval", "--model", "deit_small_patch16_224", "--weights", Fixture("deit_eval.pth"), "--data", "imagenet",
            "--root", Fixture(""), "--split", "val", .. sets, "--set", $"data.crop_pct={e.GetProperty("crop_pct").GetDouble()}", "--threads", "2"]);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        var last = JsonDocument.Parse(r.Stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(e.GetProperty("samples").GetInt32(), last.GetProperty("samples").GetInt32());
        Assert.Equal(e.GetProperty("top1").GetDouble(), last.GetProperty("top1").GetDouble(), 6);
        Assert.Equal(e.GetProperty("top5").GetDouble(), last.GetProperty("top5").GetDouble(), 6);
        Assert.Equal("bicubic", last.GetProperty("interpolation").GetString());
        Assert.Contains("top-1", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void AWrongModelForTheFileIsAClearError()
    {
        var r = CliRunner.Run("eval", "--model", "deit_small_patch16_224", "--set", "model.num_classes=10", "--weights", Fixture("deit_eval.pth"), "--data", "imagenet", "--root", Fixture(""));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("deit_eval.pth", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("pos_embed", r.Stderr, StringComparison.Ordinal);
    }
}
