using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reproduce.Torch.IO;

namespace Reproduce.GpuKit;

/// <summary>One pass/fail check: its section (parity, bf16, dist), what it compared and the largest error found.</summary>
internal sealed record Check(string Section, string Name, bool Passed, double? Error, string Detail);

/// <summary>One bench model's medians, its share of the device's matmul rate and each side's peak memory.</summary>
internal sealed record BenchRow(string Model, int Img, int Batch, bool Bf16, double CsImgS, double PyImgS, double FlopsPerImage, double MatmulGflops,
    double CsPeakBytes, double PyPeakBytes)
{
    public double Ratio => CsImgS / PyImgS;
    public double CsMfu => CsImgS * FlopsPerImage / 1e9 / MatmulGflops;
    public double PyMfu => PyImgS * FlopsPerImage / 1e9 / MatmulGflops;

    /// <summary>The bench's usual line.</summary>
    public string Line => string.Create(CultureInfo.InvariantCulture, $"bench {Model}: csharp {CsImgS:F2} img/s, pytorch {PyImgS:F2} img/s, ratio {Ratio:F3}");
}

/// <summary>What the kit found, written as <c>report.json</c> and <c>report.md</c> (each atomically).</summary>
internal sealed class KitReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public List<Check> Checks { get; } = [];
    public List<BenchRow> Bench { get; } = [];
    /// <summary>Steps not run, with the reason (time budget, a single GPU, an earlier failure).</summary>
    public List<string> Skipped { get; } = [];
    /// <summary>Steps that threw: their name and message.</summary>
    public List<string> Errors { get; } = [];
    public Dictionary<string, string> Facts { get; } = [];
    public string MatmulKind { get; set; } = "";
    public double MatmulGflops { get; set; }

    public bool Passed => Errors.Count == 0 && Checks.All(c => c.Passed);

    public void Add(Check c)
    {
        Checks.Add(c);
        Console.WriteLine(string.Create(Inv, $"{(c.Passed ? "ok  " : "FAIL")} {c.Section}: {c.Name}{(c.Error is { } e ? $" (max err {e:G3})" : "")} {c.Detail}"));
    }

    public void Write(string dir, double seconds)
    {
        Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(Path.Combine(dir, "report.json"), Json(seconds).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        AtomicFile.WriteAllText(Path.Combine(dir, "report.md"), Markdown(seconds));
    }

    private JsonObject Json(double seconds)
    {
        var facts = new JsonObject();
        foreach (var (k, v) in Facts) facts[k] = v;
        var checks = new JsonArray();
        foreach (var c in Checks)
            checks.Add(new JsonObject { ["section"] = c.Section, ["name"] = c.Name, ["passed"] = c.Passed, ["max_error"] = c.Error, ["detail"] = c.Detail });
        var bench = new JsonArray();
        foreach (var b in Bench)
            bench.Add(new JsonObject
            {
                ["model"] = b.Model, ["img"] = b.Img, ["batch"] = b.Batch, ["bf16"] = b.Bf16, ["csharp_img_s"] = b.CsImgS, ["pytorch_img_s"] = b.PyImgS,
                ["ratio"] = b.Ratio, ["train_gflop_per_img"] = b.FlopsPerImage / 1e9, ["mfu_csharp"] = b.CsMfu, ["mfu_pytorch"] = b.PyMfu,
                ["peak_bytes_csharp"] = b.CsPeakBytes, ["peak_bytes_pytorch"] = b.PyPeakBytes,
            });
        return new JsonObject
        {
            ["passed"] = Passed,
            ["seconds"] = Math.Round(seconds, 1),
            ["facts"] = facts,
            ["matmul"] = new JsonObject { ["kind"] = MatmulKind, ["gflops"] = MatmulGflops },
            ["checks"] = checks,
            ["bench"] = bench,
            ["skipped"] = new JsonArray([.. Skipped.Select(s => (JsonNode?)s)]),
            ["errors"] = new JsonArray([.. Errors.Select(s => (JsonNode?)s)]),
        };
    }

    private string Markdown(double seconds)
    {
        var sb = new StringBuilder();
        void L(FormattableString s) => sb.Append(s.ToString(Inv)).Append('\n');
        L($"# GPU kit report: {(Passed ? "passed" : "FAILED")}");
        L($"");
        foreach (var (k, v) in Facts) L($"- {k}: {v}");
        L($"- time: {seconds:F0} s");
        L($"");
        L($"## Checks");
        L($"");
        L($"| section | check | result | max error | detail |");
        L($"| --- | --- | --- | --- | --- |");
        foreach (var c in Checks)
            L($"| {c.Section} | {Cell(c.Name)} | {(c.Passed ? "ok" : "FAIL")} | {(c.Error is { } e ? e.ToString("G3", Inv) : "")} | {Cell(c.Detail)} |");
        L($"");
        L($"## Bench");
        L($"");
        L($"Matmul reference: {MatmulKind}, {MatmulGflops:F1} GFLOP/s. MFU = img/s × train FLOPs per image (3 × forward matmul/conv FLOPs) / that rate.");
        L($"");
        L($"| model | img | batch | precision | C# img/s | PyTorch img/s | ratio | MFU C# | MFU PyTorch | peak MiB C# | peak MiB PyTorch |");
        L($"| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var b in Bench)
            L($"| {b.Model} | {b.Img} | {b.Batch} | {(b.Bf16 ? "bf16" : "fp32")} | {b.CsImgS:F2} | {b.PyImgS:F2} | {b.Ratio:F3} | {b.CsMfu:P1} | {b.PyMfu:P1} | {b.CsPeakBytes / 1048576:F0} | {b.PyPeakBytes / 1048576:F0} |");
        L($"");
        foreach (var b in Bench) L($"    {b.Line}");
        if (Skipped.Count > 0 || Errors.Count > 0)
        {
            L($"");
            L($"## Not run / errors");
            L($"");
            foreach (var s in Skipped) L($"- skipped: {s}");
            foreach (var e in Errors) L($"- error: {e}");
        }
        return sb.ToString();
    }

    /// <summary>Text for a Markdown table cell: its pipes escaped.</summary>
    private static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);
}
