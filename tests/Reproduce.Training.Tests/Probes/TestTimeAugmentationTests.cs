using System.Text.Json;
using Reproduce.Torch;
using Reproduce.Training.Checkpoints.Released;
using Reproduce.Training.Config;
using Reproduce.Training.Probes;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.FashionScenes;
using Reproduce.Vision.Models;
using Reproduce.Vision.Models.Heads;

namespace Reproduce.Training.Tests.Probes;

/// <summary>
/// mmseg's multi-scale + flip test (<see cref="TestTimeAugmentation"/>): the averaged class probabilities of the DINOv2
/// stand-in backbone + ms head (tests/fixtures/released_heads) on two small uint8 images equal a float64 PyTorch
/// transcription of mmseg's aug_test with MultiScaleFlipAug + keep-ratio Resize + slide inference
/// (tests/fixtures/tta/make_tta.py) within 1e-4; the rescaled sizes equal mmcv's; the config keys are checked, named,
/// and left out of the canonical config at their defaults.
/// </summary>
[Collection(nameof(SerialTests))]
public sealed class TestTimeAugmentationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Fixture(string folder, string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", folder, name);

    private static readonly Lazy<JsonDocument> Doc = new(() => JsonDocument.Parse(File.ReadAllText(Fixture("tta", "tta_reference.json"))));

    private static double[] Doubles(JsonElement e, string key) => e.GetProperty(key).EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static int[] Ints(JsonElement e, string key) => e.GetProperty(key).EnumerateArray().Select(v => v.GetInt32()).ToArray();

    // The backbone + head of make_tta.py, and the probe's prediction function on them.
    private static (VisionTransformer Vit, SegmentationDecodeHead Head, int[] Blocks) Model()
    {
        var vit = (VisionTransformer)ModelRegistry.Get("vit_small_patch14_dinov2").With(c => c with { EmbedDim = 8, NumHeads = 2, ImgSize = 42 }).Create();
        BackboneWeights.Load(vit, Fixture("released_heads", "dinov2_vits14.pth"), ProbeRun.DenseUnused);
        vit.Eval();
        var blocks = Ints(Doc.Value.RootElement, "blocks");
        var head = HeadWeights.Segmentation(Fixture("released_heads", "dinov2_vits14_ade20k_ms_head.pth"), upernet: false, 8, blocks.Length, Device.Cpu, []);
        head.Eval();
        return (vit, head, blocks);
    }

    // |ours − PyTorch| over the compared summaries: every 25th class's probability, the expected class Σ k·p_k (k ≤ 149, so
    // its tolerance is 1e-3), Σ p_k.
    private static (double Probabilities, double Expected, double Total) Differences(Tensor probabilities, JsonElement want)
    {
        var classes = Ints(want, "classes");
        var p = probabilities.Squeeze(0).To(ScalarType.Float64);
        var picked = p.IndexSelect(0, Tensor.From(classes.Select(c => (long)c).ToArray())).ToArray<double>();
        var k = Torch.Torch.Arange(p.Size(0)).To(ScalarType.Float64).View(-1, 1, 1);
        var expected = p.Mul(k).Sum([0]).ToArray<double>();
        var total = p.Sum([0]).ToArray<double>();
        static double Worst(double[] got, double[] w)
        {
            Assert.Equal(w.Length, got.Length);
            return got.Select((g, i) => Math.Abs(g - w[i])).Max();
        }
        return (Worst(picked, Doubles(want, "probabilities")), Worst(expected, Doubles(want, "expected_class")), Worst(total, Doubles(want, "total")));
    }

    [Fact]
    public void SlideMultiScaleFlipAndWholeFlipGivePyTorchProbabilities()
    {
        var root = Doc.Value.RootElement;
        var ratios = Doubles(root, "ratios");
        var scaleRatios = Doubles(root, "scale_ratios");
        var scaleValues = Ints(root, "scale");
        var scale = (scaleValues[0], scaleValues[1]);
        int crop = root.GetProperty("crop").GetInt32(), stride = root.GetProperty("stride").GetInt32();
        using var scope = Scope.Enter();
        var (vit, head, blocks) = Model();
        using var v = vit;
        using var h = head;
        using var noGrad = Torch.Torch.NoGrad();
        Tensor Logits(Tensor x, long oh, long ow) => head.Forward(vit.GetIntermediateLayers(x, blocks), oh, ow);
        foreach (var img in root.GetProperty("images").EnumerateArray())
        {
            var shape = Ints(img, "shape");
            var image = Tensor.From(img.GetProperty("image").EnumerateArray().Select(b => (byte)b.GetInt32()).ToArray()).Reshape(shape.Select(d => (long)d).ToArray());
            Assert.Equal(ScalarType.UInt8, image.DType);
            var sizes = img.GetProperty("sizes").EnumerateArray().Select(s => s.EnumerateArray().Select(d => d.GetInt32()).ToArray()).ToArray();
            for (var i = 0; i < ratios.Length; i++)
                Assert.Equal((sizes[i][0], sizes[i][1]), TestTimeAugmentation.ScaledSize(shape[1], shape[2], ratios[i]));

            var ms = ProbeInputs.Predict(image, shape[1], shape[2], crop, stride, Device.Cpu, Logits, new TestTimeAugmentation(ratios, Flip: true));
            Assert.Equal(new long[] { 1, 150, shape[1], shape[2] }, ms.Shape);
            var (p, e, t) = Differences(ms, img.GetProperty("slide_ms_flip"));
            Assert.True(p <= 1e-4 && t <= 1e-4 && e <= 1e-3, $"slide ms + flip, image {shape[1]}×{shape[2]}: probabilities off by {p}, expected class by {e}, total by {t}");

            var flip = ProbeInputs.Predict(image, shape[1], shape[2], crop, null, Device.Cpu, Logits, new TestTimeAugmentation([1.0], Flip: true));
            (p, e, t) = Differences(flip, img.GetProperty("whole_flip"));
            Assert.True(p <= 1e-4 && t <= 1e-4 && e <= 1e-3, $"whole + flip, image {shape[1]}×{shape[2]}: probabilities off by {p}, expected class by {e}, total by {t}");

            // The test img_scale (probe.test_scale): the first image upsized, the second downsized, single scale and ms + flip.
            var scaleSizes = img.GetProperty("scale_sizes").EnumerateArray().Select(s => s.EnumerateArray().Select(d => d.GetInt32()).ToArray()).ToArray();
            for (var i = 0; i < scaleRatios.Length; i++)
                Assert.Equal((scaleSizes[i][0], scaleSizes[i][1]), TestTimeAugmentation.ScaledSize(shape[1], shape[2], scaleRatios[i], scale));
            var single = ProbeInputs.Predict(image, shape[1], shape[2], crop, stride, Device.Cpu, Logits, new TestTimeAugmentation([1.0], Flip: false, scale));
            Assert.Equal(new long[] { 1, 150, shape[1], shape[2] }, single.Shape);
            (p, e, t) = Differences(single, img.GetProperty("scale_single"));
            Assert.True(p <= 1e-4 && t <= 1e-4 && e <= 1e-3, $"scale {scale}, image {shape[1]}×{shape[2]}: probabilities off by {p}, expected class by {e}, total by {t}");
            var scaledMs = ProbeInputs.Predict(image, shape[1], shape[2], crop, stride, Device.Cpu, Logits, new TestTimeAugmentation(scaleRatios, Flip: true, scale));
            (p, e, t) = Differences(scaledMs, img.GetProperty("scale_ms_flip"));
            Assert.True(p <= 1e-4 && t <= 1e-4 && e <= 1e-3, $"scale {scale} ms + flip, image {shape[1]}×{shape[2]}: probabilities off by {p}, expected class by {e}, total by {t}");
        }
    }

    [Fact]
    public void RescaledSizesAreMmcvsAndWholeModeRefusesOtherRatios()
    {
        foreach (var row in Doc.Value.RootElement.GetProperty("size_table").EnumerateArray())
        {
            var v = row.EnumerateArray().Select(x => x.GetDouble()).ToArray();
            Assert.Equal(((int)v[3], (int)v[4]), TestTimeAugmentation.ScaledSize((int)v[0], (int)v[1], v[2]));
        }
        foreach (var row in Doc.Value.RootElement.GetProperty("scale_size_table").EnumerateArray())
        {
            var v = row.EnumerateArray().Select(x => x.GetDouble()).ToArray();
            Assert.Equal(((int)v[5], (int)v[6]), TestTimeAugmentation.ScaledSize((int)v[0], (int)v[1], v[2], ((int)v[3], (int)v[4])));
        }
        Assert.Equal((512, 683), TestTimeAugmentation.ScaledSize(512, 683, 1.0));
        Assert.Contains("probe.test_scales", Assert.Throws<ArgumentException>(() => TestTimeAugmentation.ScaledSize(1, 7, 0.5)).Message);
        using var scope = Scope.Enter();
        var image = Torch.Torch.Zeros([3, 10, 12], ScalarType.UInt8);
        var e = Assert.Throws<ArgumentException>(() => new TestTimeAugmentation([1.0, 2.0], false).Probabilities(image, rescale: false, x => x));
        Assert.Contains("probe.slide=true", e.Message);
        Assert.Contains("probe.test_scales", Assert.Throws<ArgumentException>(() =>
            new ProbeOptions { TestAugmentation = new TestTimeAugmentation([0.5, 1.0], true) }.Validate()).Message);
        // A test scale rescales even at ratio 1, so whole mode refuses it too.
        Assert.Contains("probe.slide=true", Assert.Throws<ArgumentException>(() =>
            new TestTimeAugmentation([1.0], false, (2048, 512)).Probabilities(image, rescale: false, x => x)).Message);
        Assert.Contains("probe.test_scale", Assert.Throws<ArgumentException>(() =>
            new ProbeOptions { TestAugmentation = new TestTimeAugmentation([1.0], false, (2048, 512)) }.Validate()).Message);
    }

    [Fact]
    public void TestScaleKeysAreCheckedNamedAndOmittedAtTheirDefaults()
    {
        string Error(params string[] overrides) => Assert.Throws<ConfigException>(() => ProbeRun.Resolve(ProbeTask.Segmentation, null, overrides)).Message;
        Assert.Contains("probe.test_scales", Error("probe.test_scales=[]"));
        Assert.Contains("probe.test_scales", Error("probe.slide=true", "probe.test_scales=[0.5,-1]"));
        Assert.Contains("probe.test_scales", Error("probe.slide=true", "probe.test_scales=[1,1]"));
        var whole = Error("probe.test_scales=[0.5,1.0]");
        Assert.Contains("probe.test_scales", whole);
        Assert.Contains("probe.slide=true", whole);
        var depth = Assert.Throws<ConfigException>(() => ProbeRun.Resolve(ProbeTask.Depth, null, ["probe.test_flip=true"])).Message;
        Assert.Contains("probe.test_flip", depth);
        Assert.Contains("segmentation", depth);

        var plain = ProbeRun.Resolve(ProbeTask.Segmentation, null, []);
        var defaults = ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.test_flip=false"]);
        Assert.Equal(plain.ToCanonicalJson(), defaults.ToCanonicalJson());
        Assert.DoesNotContain("test_", plain.ToCanonicalJson());
        var ms = ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.slide=true", "probe.test_scales=[0.5,0.75,1.0,1.25,1.5,1.75]", "probe.test_flip=true"]);
        Assert.Equal([0.5, 0.75, 1.0, 1.25, 1.5, 1.75], ms.Probe.TestScales);
        Assert.True(ms.Probe.TestFlip);
        Assert.Contains("\"test_flip\":true", ms.ToCanonicalJson());
        Assert.NotEqual(plain.Hash(), ms.Hash());
        Assert.Equal(ms.Hash(), RunConfig.FromJson(ConfigJson.Indented(ms)).Hash());
        Assert.True(ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.test_flip=true"]).Probe.TestFlip); // flip alone works in whole mode

        // probe.test_scale: two positive sizes, slide mode, segmentation; part of the hash when set.
        Assert.Contains("probe.test_scale", Error("probe.slide=true", "probe.test_scale=[2048]"));
        Assert.Contains("probe.test_scale", Error("probe.slide=true", "probe.test_scale=[2048,512,1]"));
        Assert.Contains("probe.test_scale", Error("probe.slide=true", "probe.test_scale=[2048,0]"));
        Assert.Contains("probe.test_scale", Error("probe.slide=true", "probe.test_scale=[200000000,512]"));
        var wholeScale = Error("probe.test_scale=[2048,512]");
        Assert.Contains("probe.test_scale", wholeScale);
        Assert.Contains("probe.slide=true", wholeScale);
        Assert.Contains("probe.test_scale", Assert.Throws<ConfigException>(() =>
            ProbeRun.Resolve(ProbeTask.Depth, null, ["probe.slide=true", "probe.test_scale=[2048,512]"])).Message);
        var scaled = ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.slide=true", "probe.test_scale=[2048,512]"]);
        Assert.Equal([2048, 512], scaled.Probe.TestScale);
        Assert.Contains("\"test_scale\":[2048,512]", scaled.ToCanonicalJson());
        Assert.NotEqual(ProbeRun.Resolve(ProbeTask.Segmentation, null, ["probe.slide=true"]).Hash(), scaled.Hash());
        Assert.Equal(scaled.Hash(), RunConfig.FromJson(ConfigJson.Indented(scaled)).Hash());
        Assert.Equal(", scale (2048, 512)", ProbeRun.AugmentationMode(new TestTimeAugmentation([1.0], false, (2048, 512))));
        Assert.Equal(", scale (99999999, 640), ms [1, 1.32] + flip", ProbeRun.AugmentationMode(new TestTimeAugmentation([1.0, 1.32], true, (99999999, 640))));
        Assert.Equal(", ms [1, 1.32] + flip", ProbeRun.AugmentationMode(new TestTimeAugmentation([1.0, 1.32], true)));
    }

    [Fact]
    public void ATrainedHeadIsEvaluatedAgainFromItsFileAndWithTheMultiScaleFlipTest()
    {
        // A 3-step linear probe on a tiny fashion-scenes tree writes head.safetensors; --head-weights on that file (same
        // seed, so the same random backbone) scores exactly the trained run's mIoU, and the multi-scale + flip test of the
        // same head runs and records its settings.
        var root = _dir["scenes"];
        FashionScenes.Write(new FashionScenesConfig { Seed = 5, Height = 32, Width = 32, TrainCount = 4, TestCount = 2, MaxItems = 3 }, root,
            FashionMnist.Load("train"), FashionMnist.Load("test"));
        string[] common = ["model.name=vit_tiny_scenes64", "data.img_size=32", "model.img_size=32", $"data.root={root}", "probe.slide=true"];
        var trained = ProbeRun.Run(ProbeRun.Resolve(ProbeTask.Segmentation, null, [.. common, "optim.steps=3", "data.batch_size=2"]), _dir["trained"]);
        var headFile = Path.Combine(_dir["trained"], ProbeRun.HeadFile);
        Assert.True(File.Exists(headFile));
        var again = ProbeRun.Run(ProbeRun.Resolve(ProbeTask.Segmentation, null, [.. common, $"probe.head_weights={headFile}"]), _dir["again"]);
        Assert.Equal(trained["mIoU"]!.GetValue<double>(), again["mIoU"]!.GetValue<double>(), 9);
        Assert.Equal(0, again["steps"]!.GetValue<int>());
        var ms = ProbeRun.Run(ProbeRun.Resolve(ProbeTask.Segmentation, null,
            [.. common, $"probe.head_weights={headFile}", "probe.test_scales=[0.75,1.0,1.5]", "probe.test_flip=true"]), _dir["ms"]);
        Assert.InRange(ms["mIoU"]!.GetValue<double>(), 0, 100);
        Assert.Equal([0.75, 1.0, 1.5], ms["test_scales"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.True(ms["test_flip"]!.GetValue<bool>());
        Assert.EndsWith(", ms [0.75, 1, 1.5] + flip", ms["eval_mode"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(trained.ContainsKey("test_scales"));
    }
}
