using System.Text.Json;

namespace Reproduce.Training.Tests.Bench;

/// <summary><c>reproduce bench</c> through the CLI: a real (tiny) run and the errors a user can cause. No timing thresholds.</summary>
public class BenchCliTests
{
    [Fact]
    public void SmokeRunPrintsOneLinePerModelAndTheJsonLast()
    {
        var r = CliRunner.Run("bench", "--model", "vit_tiny_fm28", "--variant", "sta={},anf.kernel_size=5",
            "--steps", "2", "--rounds", "1", "--warmup", "1", "--batch", "4", "--threads", "1");

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("vit_tiny_fm28: ", r.Stdout);
        Assert.Contains("vit_tiny_fm28 + sta={},anf.kernel_size=5: ", r.Stdout);
        var json = r.LastJson();
        Assert.Equal("vit_tiny_fm28", json.GetProperty("model").GetString());
        Assert.Equal("train", json.GetProperty("mode").GetString());
        Assert.Equal(4, json.GetProperty("batch").GetInt32());
        Assert.Equal(1, json.GetProperty("threads").GetInt32());
        Assert.Equal("cpu", json.GetProperty("device").GetString());
        var b = json.GetProperty("base");
        Assert.True(b.GetProperty("step_ms").GetDouble() > 0);
        Assert.True(b.GetProperty("img_s").GetDouble() > 0);
        Assert.Equal(2, b.GetProperty("timed_steps").GetInt32());
        var variants = json.GetProperty("variants");
        Assert.Equal(1, variants.GetArrayLength());
        var v = variants[0];
        Assert.Equal("sta={},anf.kernel_size=5", v.GetProperty("sets").GetString());
        Assert.True(v.GetProperty("step_ms").GetDouble() > 0);
        Assert.True(v.GetProperty("img_s").GetDouble() > 0);
        Assert.True(v.GetProperty("params").GetInt64() > b.GetProperty("params").GetInt64(), "ANF adds parameters");
        // The ratio is the two medians' quotient (both rounded to 4 decimals in the JSON).
        // Compared within a tolerance, not by rounding both sides: a value next to a rounding boundary (176.8503 vs 176.85) rounds apart.
        Assert.Equal(v.GetProperty("step_ms").GetDouble() / b.GetProperty("step_ms").GetDouble(), v.GetProperty("step_time_ratio").GetDouble(), 0.005);
        // img/s = batch / median step time.
        Assert.Equal(4 / (b.GetProperty("step_ms").GetDouble() / 1000), b.GetProperty("img_s").GetDouble(), 0.01);
    }

    [Fact]
    public void InferModeNeedsNoClassifierAndJsonFlagPrintsOnlyJson()
    {
        var r = CliRunner.Run("bench", "--model", "vit_tiny_scenes64", "--mode", "infer", "--json",
            "--steps", "1", "--rounds", "1", "--warmup", "0", "--batch", "2", "--threads", "1");

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Single(r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var json = r.LastJson();
        Assert.Equal("infer", json.GetProperty("mode").GetString());
        Assert.Equal(0, json.GetProperty("variants").GetArrayLength());
        Assert.Equal(JsonValueKind.Number, json.GetProperty("base").GetProperty("params").ValueKind);
    }

    [Theory]
    [InlineData("unknown model 'no_such_model'", "reproduce models", "--model", "no_such_model")]
    [InlineData("--steps must be positive", "", "--model", "vit_tiny_fm28", "--steps", "0")]
    [InlineData("--batch must be positive", "", "--model", "vit_tiny_fm28", "--batch", "0")]
    [InlineData("unknown key 'model.bogus'", "valid keys under 'model': name, weights, img_size", "--model", "vit_tiny_fm28", "--variant", "sta={},bogus=1")]
    [InlineData("'model.anf.kernel_size' expects integer", "", "--model", "vit_tiny_fm28", "--variant", "anf.kernel_size=five")]
    [InlineData("has no classifier", "num_classes", "--model", "vit_tiny_scenes64")]
    [InlineData("--mode must be train or infer", "", "--model", "vit_tiny_fm28", "--mode", "eval")]
    public void BadInputFailsWithAClearError(string expected, string alsoExpected, params string[] args)
    {
        var r = CliRunner.Run(["bench", .. args]);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(expected, r.Stderr);
        Assert.Contains(alsoExpected, r.Stderr);
        Assert.DoesNotContain("{", r.Stdout);
    }
}
