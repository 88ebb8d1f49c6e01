using System.Text.Json.Nodes;

namespace Reproduce.Scripts.Tests;

/// <summary>
/// scripts/regress.fsx against a prepared measured set (no training): in band → exit 0; a perturbed baseline value
/// or a row that is no longer measured → exit 1 with the row in the table of what moved; a malformed baseline → 2.
/// The real smoke run path is `build.fsx test`, which runs the check after the unit tests.
/// </summary>
public sealed class RegressTests
{
    /// <summary>A measured.json as the paper scripts write it (src/Reproduce.Report/Measured.fs).</summary>
    private static void WriteMeasured(TempDir dir)
    {
        var measured = new JsonObject
        {
            ["paper"] = "token-labeling", ["profile"] = "smoke", ["hardware"] = "test", ["command"] = "test",
            ["rows"] = new JsonArray(
                Row("ablation", "baseline", "top-1 %", [70.0, 72.0]),
                Row("ablation", "TL + MixToken", "Δ top-1", [1.0, 2.0])),
            ["unavailable"] = new JsonArray(),
        };
        var path = dir["results/smoke/token-labeling/measured.json"];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, measured.ToJsonString());

        static JsonObject Row(string table, string row, string metric, double[] values) => new()
        {
            ["table"] = table, ["row"] = row, ["metric"] = metric,
            ["values"] = new JsonArray(values.Select(v => (JsonNode)v).ToArray()),
            ["seeds"] = new JsonArray(values.Select((_, i) => (JsonNode)i).ToArray()),
            ["runs"] = new JsonArray(),
        };
    }

    private static string WriteBaseline(TempDir dir, params (string Table, string Row, string Metric, double Expected, double Tolerance)[] rows)
    {
        var baseline = new JsonObject
        {
            ["profile"] = "smoke",
            ["rows"] = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
            {
                ["paper"] = "token-labeling", ["table"] = r.Table, ["row"] = r.Row, ["metric"] = r.Metric,
                ["expected"] = r.Expected, ["tolerance"] = r.Tolerance,
            }).ToArray()),
        };
        File.WriteAllText(dir["baseline.json"], baseline.ToJsonString());
        return dir["baseline.json"];
    }

    [Fact]
    public void InBandMeansPassPerturbedOrMissingRowsFail()
    {
        using var dir = new TempDir();
        WriteMeasured(dir);

        // The means are 71.0 and 1.5: both inside their bands.
        var ok = FsiRunner.Run("scripts/regress.fsx", "--measured", dir["results"],
            "--baseline", WriteBaseline(dir, ("ablation", "baseline", "top-1 %", 71.4, 0.5), ("ablation", "TL + MixToken", "Δ top-1", 1.5, 0.1)));
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("2 of 2 baseline rows in band", ok.Stdout);

        // Perturb one expected value beyond its tolerance, and expect a row that is not measured.
        var moved = FsiRunner.Run("scripts/regress.fsx", "--measured", dir["results"],
            "--baseline", WriteBaseline(dir,
                ("ablation", "baseline", "top-1 %", 71.6, 0.5),
                ("ablation", "TL + MixToken", "Δ top-1", 1.5, 0.1),
                ("ablation", "token labeling", "Δ top-1", 0.5, 1.0)));
        Assert.True(moved.ExitCode == 1, moved.ToString());
        Assert.Contains("1 of 3 baseline rows in band", moved.Stdout);
        Assert.Contains("| token-labeling | ablation | baseline | top-1 % | 71.6 | 0.5 | 71 | -0.6 |", moved.Stdout);
        Assert.Contains("| token-labeling | ablation | token labeling | Δ top-1 | 0.5 | 1 | not measured | — |", moved.Stdout);
        Assert.DoesNotContain("| TL + MixToken |", moved.Stdout);
    }

    [Fact]
    public void MalformedBaselineIsAClearError()
    {
        using var dir = new TempDir();
        WriteMeasured(dir);
        File.WriteAllText(dir["bad.json"], """{ "rows": [ { "paper": "token-labeling", "table": "ablation", "row": "baseline", "metric": "top-1 %", "expected": 71 } ] }""");
        var r = FsiRunner.Run("scripts/regress.fsx", "--measured", dir["results"], "--baseline", dir["bad.json"]);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains(dir["bad.json"], r.Stderr);
        Assert.Contains("'tolerance'", r.Stderr);
    }
}
