// A short DINOv2 pretraining of vit_tiny_scenes64 on fashion-objects (DinoV2Pretrainer, single process) and the
// weighted k-NN top-1 (k 20, T 0.07, train → test [CLS] features) of the teacher before and after it: the research
// harness behind the quick profile's SSL settings (src/Reproduce.Training/Pretraining/README.md, "Quick settings").
// Usage: dotnet run -c Release --project bench/Reproduce.SslBench -- [--key value ...]; --help lists the keys and defaults.
using System.Diagnostics;
using System.Globalization;
using Reproduce.Torch;
using Reproduce.Training.Pretraining;
using Reproduce.Training.Train;
using Reproduce.Vision.Data;
using Reproduce.Vision.Data.FashionScenes;
using Reproduce.Vision.Data.Transforms;
using Reproduce.Vision.Models;

var inv = CultureInfo.InvariantCulture;
var defaults = new SortedDictionary<string, string>(StringComparer.Ordinal)
{
    ["threads"] = "2", ["seed"] = "0", ["steps"] = "100", ["batch"] = "32", ["log"] = "10",
    ["global-size"] = "64", ["global-scale-min"] = "0.32", ["local-size"] = "32", ["local-crops"] = "4",
    ["local-scale-min"] = "0.05", ["local-scale-max"] = "0.32",
    ["protos"] = "65536", ["hidden"] = "2048", ["bottleneck"] = "256", ["head-layers"] = "3",
    ["lr"] = "0.004", ["min-lr"] = "1e-6", ["warmup"] = "10", ["wd"] = "0.04", ["wd-end"] = "0.4",
    ["momentum"] = "0.992", ["momentum-end"] = "1", ["ttemp-start"] = "0.04", ["ttemp"] = "0.07", ["ttemp-warmup"] = "30",
    ["freeze"] = "10", ["dino"] = "1", ["ibot"] = "1", ["koleo"] = "0.1", ["centering"] = "centering", ["mask-prob"] = "0.5",
    ["drop-path"] = "0", ["knn-train"] = "10000", ["knn-test"] = "2000", ["knn-student"] = "0", ["knn-before"] = "1", ["profile"] = "0", ["profile-ops"] = "0",
};
var o = new SortedDictionary<string, string>(defaults, StringComparer.Ordinal);
for (var i = 0; i < args.Length; i++)
{
    var key = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : "";
    if (key == "help" || !defaults.ContainsKey(key) || i + 1 >= args.Length)
    {
        Console.Error.WriteLine($"{(key == "help" ? "" : $"bad argument '{args[i]}'; ")}keys (default): "
            + string.Join(" ", defaults.Select(kv => $"--{kv.Key} {kv.Value}")));
        return key == "help" ? 0 : 2;
    }
    o[key] = args[++i];
}
int I(string k) => int.Parse(o[k], inv);
double D(string k) => double.Parse(o[k], inv);

Torch.NumThreads = I("threads");
var steps = I("steps");
var vit = (VitConfig)ModelRegistry.Get("vit_tiny_scenes64").Config with { DynamicImgSize = true, DropPathRate = D("drop-path") };
var options = new DinoV2PretrainOptions(
    vit,
    new DinoHeadConfig(I("protos"), I("hidden"), I("bottleneck"), I("head-layers")),
    I("batch"),
    // one "epoch" per step: every schedule length below is in steps
    new DinoScheduleSettings(Epochs: steps, EpochLength: 1, Lr: D("lr"), MinLr: D("min-lr"), WarmupEpochs: I("warmup"),
        WeightDecay: D("wd"), WeightDecayEnd: D("wd-end"), MomentumTeacher: D("momentum"), FinalMomentumTeacher: D("momentum-end"),
        WarmupTeacherTemp: D("ttemp-start"), TeacherTemp: D("ttemp"), WarmupTeacherTempEpochs: I("ttemp-warmup"), FreezeLastLayerEpochs: I("freeze")),
    new DinoV2BatchBuilder(vit.PatchSize)
    {
        Geometry = new MultiCropGeometry
        {
            GlobalSize = I("global-size"), LocalSize = I("local-size"), LocalCrops = I("local-crops"),
            GlobalScale = (D("global-scale-min"), 1.0), LocalScale = (D("local-scale-min"), D("local-scale-max")),
        },
        MaskProbability = D("mask-prob"),
    },
    new DinoV2LossSettings(DinoWeight: D("dino"), KoLeoWeight: D("koleo"), IbotWeight: D("ibot"),
        Centering: o["centering"] == "sinkhorn" ? TeacherCentering.SinkhornKnopp : TeacherCentering.Centering),
    Seed: ulong.Parse(o["seed"], inv));

Console.WriteLine("ssl-bench: " + string.Join(" ", o.Select(kv => $"{kv.Key}={kv.Value}")));
var train = FashionObjects.Open("train", 0);
var test = FashionObjects.Open("test", 0);
var (knnTrain, knnTest) = (Math.Min(I("knn-train"), train.Count), Math.Min(I("knn-test"), test.Count));
using var trainer = new DinoV2Pretrainer(options);
if (I("profile") > 0) return Profile(I("profile"));
if (I("profile-ops") > 0) return ProfileOps(I("profile-ops"));
var sw = Stopwatch.StartNew();
var before = o["knn-before"] == "1" ? Knn(trainer.Step.Teacher) : double.NaN;
Console.WriteLine(string.Create(inv, $"random init (the teacher at step 0): k-NN top-1 {before:F4} ({sw.Elapsed.TotalSeconds:F1} s)"));

var load0 = LoadAverage();
sw.Restart();
var lastLog = 0.0;
trainer.Run(train, 0, trainer.TotalSteps, log =>
{
    if ((log.Step + 1) % I("log") != 0 && log.Step + 1 != trainer.TotalSteps) return;
    var now = sw.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(inv,
        $"step {log.Step + 1,4}: total {log.Total:F4} dino local {log.Losses.DinoLocal:F4} global {log.Losses.DinoGlobal:F4} koleo {log.Losses.KoLeo:F4} ibot {log.Losses.Ibot:F4} | lr {log.Values.Lr:G3} m {log.Values.Momentum:F4} tt {log.Values.TeacherTemp:F3} | {now:F1} s ({I("log") / (now - lastLog):F2} steps/s)"));
    lastLog = now;
});
var trainSeconds = sw.Elapsed.TotalSeconds;
var load1 = LoadAverage();
sw.Restart();
var after = Knn(trainer.Step.Teacher);
var student = o["knn-student"] == "1" ? Knn(trainer.Step.Student) : double.NaN;
Console.WriteLine(string.Create(inv,
    $"result: teacher k-NN top-1 {after:F4}, random init {before:F4}, chance 0.1000{(double.IsNaN(student) ? "" : $", student {student:F4}")}; "
    + $"{steps} steps of {options.BatchSize} in {trainSeconds:F1} s ({steps / trainSeconds:F2} steps/s, {steps * options.BatchSize / trainSeconds:F1} img/s); "
    + $"k-NN {knnTrain} train / {knnTest} test images, k 20, T 0.07 ({sw.Elapsed.TotalSeconds:F1} s); load average {load0} → {load1}"));
return 0;

// Weighted k-NN top-1 (k 20, T 0.07) of a network's normalised [CLS] on the first knn-train / knn-test images.
double Knn(DinoV2Network net)
{
    using var scope = Scope.Enter();
    var (trainX, trainY) = Features(net, train, knnTrain);
    var (testX, testY) = Features(net, test, knnTest);
    return DinoV2Knn.Evaluate(trainX, trainY, testX, testY, FashionObjects.Classes.Count, k: 20, temperature: 0.07).Top1 / 100;
}

static (Tensor X, Tensor Y) Features(DinoV2Network net, FashionObjects data, int count)
{
    using var noGrad = Torch.NoGrad();
    using var scope = Scope.Enter();
    net.Eval();
    var xs = new List<Tensor>();
    for (var start = 0; start < count; start += 250)
    {
        using var batchScope = Scope.Enter();
        var images = Enumerable.Range(start, Math.Min(250, count - start)).Select(i =>
        {
            using var s = data.Load(i);
            return Normalize.Apply(s.Image);
        }).ToList();
        xs.Add(batchScope.MoveOut(net.Forward(Tensor.Stack(images)).Cls));
    }
    net.Train();
    var labels = Tensor.From(Enumerable.Range(0, count).Select(i => (long)data.Label(i)).ToArray());
    return (scope.MoveOut(Tensor.Cat(xs)), scope.MoveOut(labels));
}

// Times the parts of a step (batch building, losses, backward, optimizer-free) on the first batches, without training.
int Profile(int rounds)
{
    var images = Enumerable.Range(0, options.BatchSize).Select(i => train.Load(i)).ToList();
    for (var r = 0; r < rounds; r++)
    {
        using var scope = Scope.Enter();
        var t = Stopwatch.StartNew();
        var c0 = Cpu();
        var batch = options.Builder.Build(images.Select(s => s.Image).ToList(), Enumerable.Range(0, options.BatchSize).Select(i => (long)i).ToList(), 0, r);
        var build = t.Elapsed.TotalSeconds;
        var c1 = Cpu();
        t.Restart();
        var losses = trainer.Step.Compute(batch, 0.04);
        var forward = t.Elapsed.TotalSeconds;
        var c2 = Cpu();
        t.Restart();
        losses.Total.Backward();
        var backward = t.Elapsed.TotalSeconds;
        var c3 = Cpu();
        foreach (var p in trainer.Step.Student.Parameters()) p.Grad = null;
        Console.WriteLine(string.Create(inv, $"profile {r}: build {build:F3} s ({c1 - c0:F3} cpu s), teacher+student forward and losses {forward:F3} s ({c2 - c1:F3} cpu s), backward {backward:F3} s ({c3 - c2:F3} cpu s); load {LoadAverage()}"));
    }
    return 0;
}

// Times each photometric/geometric operation over n crops of the first training image (per crop, wall and CPU).
int ProfileOps(int n)
{
    using var scope = Scope.Enter();
    using var sample = train.Load(0);
    var img = sample.Image;
    var box = new CropBox(4, 4, 48, 48, 64, 64);
    var crop = SampleGeometry.ResizedCrop(new TransformSample(img), box, 64, 64, InterpolationMode.Bicubic).Image;
    var ops = new (string Name, Func<Tensor> Run)[]
    {
        ("resized crop bicubic 48->64", () => SampleGeometry.ResizedCrop(new TransformSample(img), box, 64, 64, InterpolationMode.Bicubic).Image),
        ("hflip", () => SampleGeometry.HFlip(new TransformSample(crop)).Image),
        ("brightness", () => ColorOps.Brightness(crop, 1.2)),
        ("contrast", () => ColorOps.Contrast(crop, 1.2)),
        ("saturation", () => ColorOps.Saturation(crop, 1.1)),
        ("hue", () => ColorOps.Hue(crop, 0.05)),
        ("grayscale", () => ColorOps.Grayscale(crop, 3)),
        ("blur k9", () => Filters.GaussianBlur(crop, 9, 1.0)),
        ("solarize", () => PixelOps.Solarize(crop, 128)),
        ("normalize", () => Normalize.Apply(crop)),
    };
    foreach (var (name, run) in ops)
    {
        for (var i = 0; i < 3; i++) { using var w = Scope.Enter(); run(); }
        var t = Stopwatch.StartNew();
        var c0 = Cpu();
        for (var i = 0; i < n; i++) { using var w = Scope.Enter(); run(); }
        Console.WriteLine(string.Create(inv, $"op {name}: {1000 * t.Elapsed.TotalSeconds / n:F3} ms wall, {1000 * (Cpu() - c0) / n:F3} ms cpu per crop"));
    }
    return 0;
}

static double Cpu() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
