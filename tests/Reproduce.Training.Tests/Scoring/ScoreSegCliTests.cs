using System.Text.Json;

namespace Reproduce.Training.Tests.Scoring;

/// <summary>
/// <c>reproduce score seg</c> on hand-made PNG trees, checked through the final JSON line (mmseg conventions:
/// dataset-level accumulation, nanmean over classes, ignore 255, reduce_zero_label on GT and predictions).
/// </summary>
public class ScoreSegCliTests
{
    private const double Tol = 1e-9;

    private static void AssertNumber(double expected, JsonElement e, string name) =>
        Assert.Equal(expected, e.GetProperty(name).GetDouble(), Tol);

    [Fact]
    public void ReduceZeroLabelAppliesToBothAndAbsentClassIsSkippedByNanmean()
    {
        // Raw ADE-style ids; reduce_zero_label: 0 → 255, 255 → 255, v → v − 1; C = 4.
        // a.png  GT  [[1,1,2],[3,0,255]] → [[0,0,1],[2,255,255]]
        //        pred[[1,2,2],[3,3,0]]   → [[0,1,1],[2,2,255]]
        //        valid (pred, gt): (0,0) (1,0) (1,1) (2,2); the pred 2 and 255 sit on ignored pixels.
        // sub/b.png GT [[2,2]] → [[1,1]], pred [[0,2]] → [[255,1]]: (255,1) is wrong and adds only to L[1]; (1,1).
        //   I = [1, 2, 1, 0], P = [1, 3, 1, 0], L = [2, 3, 1, 0], U = P + L − I = [2, 4, 1, 0]
        //   IoU = [1/2, 1/2, 1, NaN] → mIoU = 2/3;  Acc = [1/2, 2/3, 1, NaN] → mAcc = 13/18;  aAcc = 4/6
        using var dir = new TempDir();
        PngTree.Labels(dir["gt/a.png"], new byte[,] { { 1, 1, 2 }, { 3, 0, 255 } });
        PngTree.Labels(dir["pred/a.png"], new byte[,] { { 1, 2, 2 }, { 3, 3, 0 } });
        PngTree.Labels(dir["gt/sub/b.png"], new byte[,] { { 2, 2 } });
        PngTree.Labels(dir["pred/sub/b.png"], new byte[,] { { 0, 2 } });

        var r = CliRunner.Run("score", "seg", "--pred", dir["pred"], "--gt", dir["gt"], "--reduce-zero-label", "--num-classes", "4");

        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = r.LastJson();
        AssertNumber(200.0 / 3, json, "mIoU");
        AssertNumber(100.0 * 13 / 18, json, "mAcc");
        AssertNumber(200.0 / 3, json, "aAcc");
        var perClass = json.GetProperty("per_class_iou").EnumerateArray().ToArray();
        Assert.Equal(4, perClass.Length);
        Assert.Equal(50.0, perClass[0].GetDouble(), Tol);
        Assert.Equal(50.0, perClass[1].GetDouble(), Tol);
        Assert.Equal(100.0, perClass[2].GetDouble(), Tol);
        Assert.Equal(JsonValueKind.Null, perClass[3].ValueKind);
    }

    [Fact]
    public void WithoutReductionZeroIsAClassAnd255IsIgnored()
    {
        // C = 3, GT [[0,1],[255,2]], pred [[0,2],[1,2]]: valid (pred, gt) = (0,0) (2,1) (2,2); the pred 1 is on 255.
        //   I = [1, 0, 1], P = [1, 0, 2], L = [1, 1, 1], U = [1, 1, 2]
        //   IoU = [1, 0, 1/2] → mIoU = 1/2;  Acc = [1, 0, 1] → mAcc = 2/3;  aAcc = 2/3
        using var dir = new TempDir();
        PngTree.Labels(dir["gt/x.png"], new byte[,] { { 0, 1 }, { 255, 2 } });
        PngTree.Labels(dir["pred/x.png"], new byte[,] { { 0, 2 }, { 1, 2 } });

        var r = CliRunner.Run("score", "seg", "--pred", dir["pred"], "--gt", dir["gt"], "--num-classes", "3");

        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = r.LastJson();
        AssertNumber(50.0, json, "mIoU");
        AssertNumber(200.0 / 3, json, "mAcc");
        AssertNumber(200.0 / 3, json, "aAcc");
        Assert.Equal([100.0, 0.0, 50.0], json.GetProperty("per_class_iou").EnumerateArray().Select(e => e.GetDouble()));
    }

    [Fact]
    public void MissingExtraAndMismatchedFilesAreErrorsNamingTheFile()
    {
        using var dir = new TempDir();
        PngTree.Labels(dir["gt/a.png"], new byte[,] { { 1, 2 } });
        PngTree.Labels(dir["gt/b.png"], new byte[,] { { 1, 2 } });
        PngTree.Labels(dir["pred/a.png"], new byte[,] { { 1, 2 } });
        string[] Args() => ["score", "seg", "--pred", dir["pred"], "--gt", dir["gt"], "--num-classes", "3"];

        var missing = CliRunner.Run(Args());
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no prediction for ground truth", missing.Stderr);
        Assert.Contains(dir["gt/b.png"], missing.Stderr);

        PngTree.Labels(dir["pred/b.png"], new byte[,] { { 1 }, { 2 } });
        var mismatched = CliRunner.Run(Args());
        Assert.Equal(1, mismatched.ExitCode);
        Assert.Contains(dir["pred/b.png"], mismatched.Stderr);
        Assert.Contains("2×1", mismatched.Stderr);
        Assert.Contains("1×2", mismatched.Stderr);

        PngTree.Labels(dir["pred/b.png"], new byte[,] { { 1, 2 } });
        PngTree.Labels(dir["pred/c.png"], new byte[,] { { 1, 2 } });
        var extra = CliRunner.Run(Args());
        Assert.Equal(1, extra.ExitCode);
        Assert.Contains(dir["pred/c.png"], extra.Stderr);
        Assert.Contains("has no ground truth", extra.Stderr);
    }

    [Fact]
    public void NumClassesIsRequiredWithoutReduceZeroLabel()
    {
        using var dir = new TempDir();
        PngTree.Labels(dir["gt/a.png"], new byte[,] { { 1 } });
        PngTree.Labels(dir["pred/a.png"], new byte[,] { { 1 } });
        var r = CliRunner.Run("score", "seg", "--pred", dir["pred"], "--gt", dir["gt"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--num-classes is required", r.Stderr);
        Assert.Equal("", r.Stdout.Trim());
    }
}
