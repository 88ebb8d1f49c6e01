/// `reproduce train-smoke`: the smallest end-to-end training — a small ViT on the real Fashion-MNIST
/// (Debian's dataset-fashion-mnist), AdamW with timm's weight-decay groups, warmup + cosine, then test
/// top-1. It stands in for the main job until the paper scripts exist.
module Reproduce.Cli.TrainSmoke

open System
open System.Diagnostics
open System.Text.Json
open Reproduce.Torch
open Reproduce.Torch.Optim
open Reproduce.Vision.Data
open Reproduce.Vision.Models

/// Everything the run depends on, visible in one record (nanoGPT style).
type Options =
    { Steps: int
      Batch: int
      Lr: float
      WeightDecay: float
      WarmupSteps: int
      LabelSmoothing: float
      EvalSamples: int
      Seed: int
      EmbedDim: int
      Depth: int
      Heads: int
      LogEvery: int }

let defaults =
    { Steps = 600; Batch = 64; Lr = 1e-3; WeightDecay = 0.05; WarmupSteps = 50; LabelSmoothing = 0.1
      EvalSamples = 10_000; Seed = 0; EmbedDim = 96; Depth = 4; Heads = 3; LogEvery = 100 }

/// The model: patch 4 on 28×28×1 gives 49 patch tokens plus the class token.
let config (o: Options) =
    VitConfig(ImgSize = 28, PatchSize = 4, InChans = 1, NumClasses = 10,
              EmbedDim = o.EmbedDim, Depth = o.Depth, NumHeads = o.Heads)

/// Top-1 accuracy (percent) on the first `n` test images, in inference mode.
let evaluate (model: VisionTransformer) (test: FashionMnistSplit) n =
    model.Eval() |> ignore
    use _ = Torch.InferenceMode()
    let mutable correct = 0L
    for start in 0 .. 500 .. n - 1 do
        use _ = Scope.Enter()
        let idx = [| start .. min n (start + 500) - 1 |]
        let struct (x, y) = test.Batch(ReadOnlySpan idx)
        correct <- correct + model.Forward(x).Argmax(1L).Eq(other = y).Sum().ToInt64()
    model.Train() |> ignore
    100.0 * float correct / float n

let run (o: Options) =
    let train = FashionMnist.Load "train"
    let test = FashionMnist.Load "test"
    let n = min o.EvalSamples test.Count
    Torch.ManualSeed(uint64 o.Seed)
    use model = new VisionTransformer(config o)
    use opt = new AdamW(ParamGroups.WeightDecayExclusion(model, o.WeightDecay), lr = o.Lr)
    let schedule = WarmupCosine(int64 o.Steps, lrMin = 1e-5, warmupT = int64 o.WarmupSteps, warmupLrInit = 1e-6)
    let rng = Random(o.Seed)
    printfn "train-smoke: ViT dim %d depth %d heads %d (%.2fM params), %d steps of batch %d, %d threads"
        o.EmbedDim o.Depth o.Heads (float (model.ParameterCount()) / 1e6) o.Steps o.Batch Torch.NumThreads
    let clock = Stopwatch.StartNew()
    let mutable lastLoss = nan
    for step in 0 .. o.Steps - 1 do
        schedule.Apply(opt, int64 step)
        use _ = Scope.Enter()
        let idx = Array.init o.Batch (fun _ -> rng.Next train.Count)
        let struct (x, y) = train.Batch(ReadOnlySpan idx)
        let loss = F.CrossEntropy(model.Forward x, y, labelSmoothing = o.LabelSmoothing)
        loss.Backward()
        opt.Step()
        opt.ZeroGrad()
        if (step + 1) % o.LogEvery = 0 || step = o.Steps - 1 then
            lastLoss <- loss.ToDouble()
            if not (Double.IsFinite lastLoss) then
                raise (TorchException(sprintf "train-smoke: loss became %f at step %d" lastLoss (step + 1)))
            printfn "step %5d  loss %.4f  lr %s  %.1f img/s" (step + 1) lastLoss (opt.Groups[0].Lr.ToString("0.00e+00"))
                (float ((step + 1) * o.Batch) / clock.Elapsed.TotalSeconds)
    let trainSeconds = clock.Elapsed.TotalSeconds
    let top1 = evaluate model test n
    let result =
        {| steps = o.Steps; batch = o.Batch; train_loss = lastLoss; test_top1 = top1; test_samples = n
           img_per_s = float (o.Steps * o.Batch) / trainSeconds; seconds = trainSeconds; threads = Torch.NumThreads |}
    printfn "test top-1: %.2f%% on %d Fashion-MNIST test images" top1 n
    printfn "%s" (JsonSerializer.Serialize result)
    0
