using Reproduce.Torch.IO;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.Datasets;
using Reproduce.Vision.Data.FashionScenes;

namespace Reproduce.Vision.Tests.Data;

public sealed class FashionScenesTests : IDisposable
{
    private static readonly Lazy<FashionMnistSplit> Train = new(() => FashionMnist.Load("train"));
    private static readonly Lazy<FashionMnistSplit> Test = new(() => FashionMnist.Load("test"));
    private static readonly FashionScenesConfig Small = new() { Seed = 7, Height = 48, Width = 64, TrainCount = 5, TestCount = 3, MaxItems = 8 };

    private readonly FixtureTree _t = new();

    public void Dispose() => _t.Dispose();

    private static Dictionary<string, byte[]> Files(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);

    [Fact]
    public void SameSeedGivesByteIdenticalFilesAndAnotherSeedDoesNot()
    {
        FashionScenes.Write(Small, _t["a"], Train.Value, Test.Value);
        FashionScenes.Write(Small, _t["b"], Train.Value, Test.Value);
        FashionScenes.Write(Small with { Seed = 8 }, _t["c"], Train.Value, Test.Value);
        var (a, b, c) = (Files(_t["a"]), Files(_t["b"]), Files(_t["c"]));
        // 8 scenes × (ADE jpg + png, NYU jpg + png, KITTI png + png) + objectInfo + 4 split files + config
        Assert.Equal(8 * 6 + 6, a.Count);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        Assert.All(a, kv => Assert.True(kv.Value.AsSpan().SequenceEqual(b[kv.Key]), $"{kv.Key} differs between equal seeds"));
        Assert.Equal(a.Keys.Order(), c.Keys.Order().Select(k => k));
        Assert.Contains(a, kv => kv.Key.EndsWith(".png", StringComparison.Ordinal) && !kv.Value.AsSpan().SequenceEqual(c[kv.Key]));
        Assert.NotEqual(Small.Hash(), (Small with { Seed = 8 }).Hash());
        Assert.Equal(Small.Hash(), (Small with { }).Hash());
    }

    /// <summary>Background depth from the layout alone: the wall, or the floor row's perspective depth.</summary>
    private static double BackgroundDepth(SceneLayout l, int y)
    {
        var cy = y + 0.5;
        return cy > l.WallBottom ? l.Focal * l.CameraHeight / (cy - l.Horizon) : l.WallDepth;
    }

    [Fact]
    public void NearestCoveringItemOwnsEachPixelAndLabelsAndDepthAgree()
    {
        var cfg = Small with { MinItems = 6, MaxItems = 12 };
        var items = Train.Value;
        var overlaps = 0;
        for (var s = 0; s < 6; s++)
        {
            var scene = FashionScenes.RenderScene(cfg, "train", s, items);
            var l = scene.Layout;
            for (var y = 0; y < scene.Height; y++)
                for (var x = 0; x < scene.Width; x++)
                {
                    var i = y * scene.Width + x;
                    var cover = l.Items.Select(it => (it, a: SceneRenderer.Coverage(it, items, x, y).Alpha)).Where(p => p.a > 0).ToList();
                    var owners = cover.Where(p => p.a >= SceneRenderer.OwnAlpha).OrderBy(p => p.it.Depth).ToList();
                    if (owners.Count > 1) overlaps++;
                    var owner = owners.Count > 0 ? owners[0].it : null;
                    var ownerDepth = owner?.Depth ?? BackgroundDepth(l, y);
                    // Wall and floor are the back layer: items stand on the floor and are drawn over it.
                    var mixed = cover.Any(p => p.a < SceneRenderer.OwnAlpha && (owner is null || p.it.Depth < owner.Depth));
                    var label = mixed ? FashionScenes.UnlabeledId : owner is null ? FashionScenes.BackgroundId : FashionScenes.FirstItemId + owner.Class;
                    Assert.True(label == scene.Labels[i], $"scene {s} pixel ({y},{x}): label {scene.Labels[i]}, nearest owner says {label}");
                    Assert.Equal(ownerDepth, scene.Depth[i]);
                }
        }
        Assert.True(overlaps > 50, $"only {overlaps} pixels where items overlap: the test would not exercise occlusion");
    }

    [Fact]
    public void RemovingAnOccludedItemChangesNothingWhereANearerOpaqueItemCoversIt()
    {
        var cfg = Small with { MinItems = 8, MaxItems = 12 };
        var items = Train.Value;
        var checkedPixels = 0;
        for (var s = 0; s < 8; s++)
        {
            var scene = FashionScenes.RenderScene(cfg, "train", s, items);
            var l = scene.Layout;
            foreach (var far in l.Items)
            {
                var without = SceneRenderer.Render(l with { Items = l.Items.Where(it => !ReferenceEquals(it, far)).ToList() }, items, cfg.Height, cfg.Width);
                for (var y = 0; y < cfg.Height; y++)
                    for (var x = 0; x < cfg.Width; x++)
                    {
                        var i = y * cfg.Width + x;
                        var farAlpha = SceneRenderer.Coverage(far, items, x, y).Alpha;
                        var hidden = l.Items.Any(it => it.Depth < far.Depth && SceneRenderer.Coverage(it, items, x, y).Alpha >= 1.0);
                        if (farAlpha == 0 || hidden)
                        {
                            if (farAlpha > 0) checkedPixels++;
                            Assert.Equal(scene.Labels[i], without.Labels[i]);
                            Assert.Equal(scene.Depth[i], without.Depth[i]);
                            Assert.Equal(scene.Rgb.AsSpan(3 * i, 3).ToArray(), without.Rgb.AsSpan(3 * i, 3).ToArray());
                        }
                        else if (farAlpha >= SceneRenderer.OwnAlpha && scene.Labels[i] == FashionScenes.FirstItemId + far.Class && scene.Depth[i] == far.Depth)
                            Assert.NotEqual(far.Depth, without.Depth[i]); // it owned the pixel: its depth goes with it
                    }
            }
        }
        Assert.True(checkedPixels > 20, $"only {checkedPixels} fully hidden item pixels were checked");
    }

    [Fact]
    public void DepthCanBeReadFromPositionSizeAndShading()
    {
        var cfg = Small with { MinItems = 4, MaxItems = 8 };
        var sizes = new List<(double InvDepth, double Size, double Bottom, double Shade)>();
        for (var s = 0; s < 40; s++)
        {
            var l = FashionScenes.RenderScene(cfg, "test", s, Test.Value).Layout;
            Assert.InRange(l.Focal * l.CameraHeight / (cfg.Height - 0.5 - l.Horizon), 0.5, 1.0); // nearest floor row
            Assert.InRange(l.WallDepth, 6.0, 10.0);
            foreach (var it in l.Items)
            {
                Assert.InRange(it.Depth, 0.9, l.WallDepth);
                sizes.Add((1 / it.Depth, it.Size, it.Top + it.Size, SceneRenderer.Shade(it.Depth)));
            }
        }
        static double Corr(IReadOnlyList<double> a, IReadOnlyList<double> b)
        {
            double ma = a.Average(), mb = b.Average();
            double cov = a.Zip(b).Sum(p => (p.First - ma) * (p.Second - mb));
            return cov / Math.Sqrt(a.Sum(v => (v - ma) * (v - ma)) * b.Sum(v => (v - mb) * (v - mb)));
        }
        var inv = sizes.Select(p => p.InvDepth).ToList();
        Assert.True(Corr(inv, sizes.Select(p => p.Size).ToList()) > 0.95, "item size should follow 1/depth");
        Assert.True(Corr(inv, sizes.Select(p => p.Bottom).ToList()) > 0.95, "item floor contact row should follow 1/depth");
        Assert.True(Corr(inv, sizes.Select(p => p.Shade).ToList()) > 0.9, "farther items should be dimmer");
    }

    [Fact]
    public void CachedTreeServesTheRealReadersWithTheScenesLabelsAndDepth()
    {
        var cache = _t["cache"];
        var tree = FashionScenes.Ensure(Small, cache, Train.Value, Test.Value);
        Assert.Equal(Path.Combine(cache, $"fashion-scenes-{Small.Hash()}"), tree.Root);
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(tree.Root, "config.json"));
        Assert.Equal(tree.Root, FashionScenes.Ensure(Small, cache).Root); // cached: nothing regenerated
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(tree.Root, "config.json")));
        Assert.Single(Directory.GetDirectories(cache)); // no temporary folder left
        Assert.Equal(Small, FashionScenesTree.Open(tree.Root).Config);
        Assert.Contains("not a fashion-scenes folder", Assert.Throws<FileNotFoundException>(() => FashionScenesTree.Open(cache)).Message);

        foreach (var name in new[] { "ade20k", "nyu", "kitti" })
        {
            var root = name switch { "ade20k" => tree.AdeRoot, "nyu" => tree.NyuRoot, _ => tree.KittiRoot };
            var report = DatasetChecker.Check(name, root);
            Assert.True(report.Ok, string.Join("\n", report.Problems));
            Assert.Equal(new[] { 5, 3 }, report.Splits.Select(s => s.Samples));
        }

        using var scope = Scope.Enter();
        var seg = tree.Segmentation("test");
        Assert.Equal(FashionScenes.Classes, seg.Classes);
        var dense = tree.DenseDepth("test");
        var sparse = tree.SparseDepth("test");
        for (var i = 0; i < 3; i++)
        {
            var scene = FashionScenes.RenderScene(Small, "test", i, Test.Value);
            using var a = seg.Load(i);
            Assert.Equal(scene.Labels.Select(v => v == 0 ? 255L : v - 1L).ToArray(), a.Label.ToArray<long>());
            var jpeg = a.Image.Permute(1, 2, 0).Contiguous().ToArray<byte>();
            var jpegError = jpeg.Zip(scene.Rgb).Average(p => Math.Abs(p.First - p.Second));
            Assert.True(jpegError < 3.0, $"JPEG image stays close to the render: mean |Δ| {jpegError:F2}");

            using var d = dense.Load(i);
            Assert.Equal(0.8 * Small.Width, d.Focal);
            var dd = d.Depth.ToArray<float>();
            Assert.All(Enumerable.Range(0, dd.Length), k => Assert.True(Math.Abs(dd[k] - scene.Depth[k]) <= 0.0005 + 1e-6));
            Assert.All(d.Valid.ToArray<bool>(), Assert.True);

            using var k = sparse.Load(i);
            Assert.Equal(scene.Rgb, k.Image.Permute(1, 2, 0).Contiguous().ToArray<byte>()); // PNG: lossless
            var kd = k.Depth.ToArray<float>();
            var kv = k.Valid.ToArray<bool>();
            for (var p = 0; p < kd.Length; p++)
            {
                var row = p / Small.Width;
                var expectValid = row % Small.ScanlineStep == 0 && scene.Depth[p] <= Small.SparseMaxDepth && scene.Labels[p] != FashionScenes.UnlabeledId;
                Assert.Equal(expectValid, kv[p]);
                if (kv[p]) Assert.True(Math.Abs(kd[p] - scene.Depth[p]) <= 1 / 512.0 + 1e-6);
                else Assert.Equal(0f, kd[p]);
            }
            Assert.Contains(true, kv);
        }
    }

    [Fact]
    public void ConfigValidationNamesTheBadValue()
    {
        Assert.Contains("size", Assert.Throws<ArgumentException>(() => (Small with { Height = 8 }).Validate()).Message);
        Assert.Contains("items", Assert.Throws<ArgumentException>(() => (Small with { MinItems = 5, MaxItems = 2 }).Validate()).Message);
        Assert.Throws<IOException>(() => FashionScenes.Write(Small, _t.Root, Train.Value, Test.Value));
    }
}
