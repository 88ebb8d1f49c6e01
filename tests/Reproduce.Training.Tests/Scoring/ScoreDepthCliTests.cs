using System.Text.Json;

namespace Reproduce.Training.Tests.Scoring;

/// <summary>
/// <c>reproduce score depth</c> on hand-made 16-bit PNG trees, checked through the final JSON line (BTS conventions:
/// per-image metrics averaged over images, invalid GT ignored, predictions clamped to the range, dataset crops).
/// </summary>
public class ScoreDepthCliTests
{
    private const double Tol = 1e-9;

    private static void AssertMetrics(JsonElement json, (string Name, double Value)[] expected)
    {
        foreach (var (name, value) in expected)
            Assert.True(Math.Abs(json.GetProperty(name).GetDouble() - value) <= Tol * Math.Max(1, Math.Abs(value)),
                $"{name}: expected {value}, got {json.GetProperty(name)}");
    }

    [Fact]
    public void NyuMillimetresEigenCropInvalidPixelsAndPerImageAveraging()
    {
        // 480×640, mm. Valid (g, p) in metres, inside the Eigen crop [45:471, 41:601] and (1e-3, 10):
        //   img1: (100,100) 2 vs 2.5; (200,300) 4 vs 4; (45,41) 1 vs 1 (first crop pixel); (470,600) 8 vs 15 → 10 (clamped).
        //   Not counted: (44,41) and (45,40) and (471,600) and (470,601) just outside the crop (g 1 vs 5);
        //   (300,300) g 12 m ≥ 10 (out of range, p 3); zero GT everywhere else.
        //   img1: abs_rel (0.25 + 0 + 0 + 0.25)/4 = 0.125; sq_rel (0.125 + 0.5)/4 = 0.15625; rmse sqrt(4.25/4);
        //         d1: ratios 1.25, 1, 1, 1.25 → 0.5 (1.25 is not < 1.25); d2 = d3 = 1.
        //   img2: (100,100) 1 vs 2: abs_rel 1, sq_rel 1, rmse 1, rmse_log ln 2, log10 log10 2, silog 0, d1 = d2 = d3 = 0.
        //   img3: no valid pixel (only a 12 m GT) → skipped, not averaged.
        //   reported = (img1 + img2) / 2.
        using var dir = new TempDir();
        (int, int, int)[] outside = [(44, 41, 1000), (45, 40, 1000), (471, 600, 1000), (470, 601, 1000)];
        PngTree.Depth16(dir["gt/scene/img1.png"], 480, 640,
            [(100, 100, 2000), (200, 300, 4000), (45, 41, 1000), (470, 600, 8000), (300, 300, 12000), .. outside]);
        PngTree.Depth16(dir["pred/scene/img1.png"], 480, 640,
            [(100, 100, 2500), (200, 300, 4000), (45, 41, 1000), (470, 600, 15000), (300, 300, 3000),
             .. outside.Select(o => (o.Item1, o.Item2, 5000))]);
        PngTree.Depth16(dir["gt/scene/img2.png"], 480, 640, (100, 100, 1000));
        PngTree.Depth16(dir["pred/scene/img2.png"], 480, 640, (100, 100, 2000));
        PngTree.Depth16(dir["gt/scene/img3.png"], 480, 640, (100, 100, 12000));
        PngTree.Depth16(dir["pred/scene/img3.png"], 480, 640, (100, 100, 2000));

        var r = CliRunner.Run("score", "depth", "--pred", dir["pred"], "--gt", dir["gt"], "--dataset", "nyu");

        Assert.True(r.ExitCode == 0, r.Stderr);
        var img1RmseLog = Math.Sqrt((Math.Pow(Math.Log(2.5 / 2), 2) + Math.Pow(Math.Log(10.0 / 8), 2)) / 4);
        var img1Log10 = (Math.Log10(2.5 / 2) + Math.Log10(10.0 / 8)) / 4;
        // e = ln p − ln g = [ln 1.25, 0, 0, ln 1.25]: mean(e²) − mean(e)² = ln²1.25 / 2 − ln²1.25 / 4 = ln²1.25 / 4.
        var img1Silog = 100 * Math.Log(1.25) / 2;
        AssertMetrics(r.LastJson(),
        [
            ("abs_rel", (0.125 + 1) / 2), ("sq_rel", (0.15625 + 1) / 2), ("rmse", (Math.Sqrt(4.25 / 4) + 1) / 2),
            ("rmse_log", (img1RmseLog + Math.Log(2)) / 2), ("log10", (img1Log10 + Math.Log10(2)) / 2), ("silog", img1Silog / 2),
            ("d1", 0.25), ("d2", 0.5), ("d3", 0.5),
        ]);
        Assert.Contains("scored 2 images (1 without valid pixels skipped)", r.Stdout);
    }

    [Fact]
    public void KittiDiv256GargCropAnd80MetreCap()
    {
        // 100×200, value / 256 = metres. Garg crop rows [⌊40.81⌋, ⌊99.19⌋) = [40, 99), cols [⌊7.19⌋, ⌊192.81⌋) = [7, 192).
        // Valid (g, p): (40,7) 10 vs 12.5; (98,191) 20 vs 16; (60,100) 40 vs 90 → 80 (the cap clamps predictions).
        // Not counted: (39,7), (99,191), (60,192), (60,6) outside the crop (g 10 vs 50); (70,100) g 85 m ≥ 80.
        //   ratios 1.25, 1.25, 2 → d1 0, d2 = d3 = 2/3 (2 ≥ 1.25³ = 1.953)
        //   abs_rel (0.25 + 0.2 + 1)/3; sq_rel (6.25/10 + 16/20 + 1600/40)/3; rmse sqrt((6.25 + 16 + 1600)/3)
        using var dir = new TempDir();
        (int, int)[] outside = [(39, 7), (99, 191), (60, 192), (60, 6)];
        PngTree.Depth16(dir["gt/0000000005.png"], 100, 200,
            [(40, 7, 2560), (98, 191, 5120), (60, 100, 10240), (70, 100, 21760), .. outside.Select(o => (o.Item1, o.Item2, 2560))]);
        PngTree.Depth16(dir["pred/0000000005.png"], 100, 200,
            [(40, 7, 3200), (98, 191, 4096), (60, 100, 23040), (70, 100, 2560), .. outside.Select(o => (o.Item1, o.Item2, 12800))]);

        var r = CliRunner.Run("score", "depth", "--pred", dir["pred"], "--gt", dir["gt"], "--dataset", "kitti");

        Assert.True(r.ExitCode == 0, r.Stderr);
        double[] e = [Math.Log(1.25), Math.Log(0.8), Math.Log(2)];
        var meanE = e.Average();
        AssertMetrics(r.LastJson(),
        [
            ("abs_rel", (0.25 + 0.2 + 1) / 3), ("sq_rel", (0.625 + 0.8 + 40) / 3), ("rmse", Math.Sqrt((6.25 + 16 + 1600) / 3)),
            ("rmse_log", Math.Sqrt(e.Select(x => x * x).Average())),
            ("log10", (Math.Log10(1.25) + Math.Log10(1.25) + Math.Log10(2)) / 3),
            ("silog", 100 * Math.Sqrt(e.Select(x => x * x).Average() - meanE * meanE)),
            ("d1", 0.0), ("d2", 2.0 / 3), ("d3", 2.0 / 3),
        ]);
    }

    [Fact]
    public void BadDepthFilesAreErrorsNamingTheFile()
    {
        using var dir = new TempDir();
        // NYU's Eigen crop is defined on 480×640 only.
        PngTree.Depth16(dir["gt/a.png"], 10, 20, (5, 5, 1000));
        PngTree.Depth16(dir["pred/a.png"], 10, 20, (5, 5, 1000));
        var wrongSize = CliRunner.Run("score", "depth", "--pred", dir["pred"], "--gt", dir["gt"], "--dataset", "nyu");
        Assert.Equal(1, wrongSize.ExitCode);
        Assert.Contains(dir["gt/a.png"], wrongSize.Stderr);
        Assert.Contains("480×640", wrongSize.Stderr);

        // An 8-bit prediction cannot hold depth in the dataset's units.
        PngTree.Labels(dir["pred/a.png"], new byte[10, 20]);
        var eightBit = CliRunner.Run("score", "depth", "--pred", dir["pred"], "--gt", dir["gt"], "--dataset", "kitti");
        Assert.Equal(1, eightBit.ExitCode);
        Assert.Contains(dir["pred/a.png"], eightBit.Stderr);
        Assert.Contains("16-bit", eightBit.Stderr);

        var unknown = CliRunner.Run("score", "depth", "--pred", dir["pred"], "--gt", dir["gt"], "--dataset", "sunrgbd");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("valid: nyu, kitti", unknown.Stderr);
    }
}
