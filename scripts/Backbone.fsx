/// One ViT variant, pretrained once per seed and then read by every table that needs it: the classification top-1
/// of the pretraining run, the frozen-backbone segmentation and depth probes (DINOv2-style linear heads), and the
/// token analysis (`reproduce analyze`: per-block [CLS]/patch cosine similarity, token-norm outliers). Shared by
/// sta-anf.fsx, specialization.fsx and combined.fsx.
///
/// The runs live in `results/<profile>/backbones/runs/`, not under one paper: the same baseline (or STA + ANF, or
/// the specialized model) is a row of several papers' tables, and the run hash (over the command and its config)
/// makes a script skip what another one already ran. Each script still runs alone: it runs what is missing.
///
/// CPU profiles: vit_tiny_scenes64 (D 96, depth 4, patch 8, 64×64 RGB) pretrained on fashion-objects (single
/// Fashion-MNIST items in the fashion-scenes style), probed on fashion-scenes (segmentation: ADE20K stand-in; dense
/// depth: NYUv2 stand-in; sparse, range-limited depth: KITTI stand-in). Full: ViT-B/16 on ImageNet-1k, probed on
/// ADE20K, NYUv2 and KITTI.
///
/// What the quick pretraining reaches (fashion-scenes format 2, dark rooms and light items): 100 steps of 32 give the
/// baseline 23.65 ± 1.63 % top-1 (2 seeds; chance is 10 %, and format 1 stayed there), a short pretraining: against an
/// untrained backbone (sta-anf.fsx's "random init" rows) it improves the depth probe's abs_rel by ~31 % but the
/// segmentation probe by only ~0.5 mIoU. Read the quick Δs as the modules' effect early in training. The longer
/// pretraining of configs/fashion-objects-vit-tiny.json (300 steps of 64, 43.2 %) beats random init by ~2 mIoU at
/// every seed (src/Reproduce.Training/Probes/README.md).
module Backbone

#load "lib/Lib.fsx"

open System
open System.Text.Json.Nodes

/// Run lengths and data sizes of one CPU profile (the full profile uses the papers' settings, see `pretrainConfig`).
/// Fixed before any result was seen; scripts/README.md ("Run times") gives the wall time they cost.
type Budget =
    {
        /// Pretraining: optimizer updates, warmup, batch, and the evaluation images (first N of the test split).
        Steps: int
        Warmup: int
        Batch: int
        EvalLimit: int
        /// Probes: head-training steps, training images and evaluation images (first N of each split).
        ProbeSteps: int
        ProbeTrainLimit: int
        ProbeEvalLimit: int
        /// Test images the token analysis averages over.
        AnalyzeImages: int
    }

let budget (profile: Args.Profile) =
    match profile with
    | Args.Smoke -> { Steps = 10; Warmup = 1; Batch = 32; EvalLimit = 100; ProbeSteps = 10; ProbeTrainLimit = 80; ProbeEvalLimit = 20; AnalyzeImages = 4 }
    | Args.Quick
    | Args.Full
    | Args.Released ->
        { Steps = 100; Warmup = 10; Batch = 32; EvalLimit = 1000; ProbeSteps = 100; ProbeTrainLimit = 800; ProbeEvalLimit = 200; AnalyzeImages = 32 }

/// A model variant: a readable key (run names), the label its table rows carry, and the model keys that make it
/// (`key=value` under `model.`, the registry record's typed keys: `sta={}`, `anf={}`, `specialization={}`).
type Variant = { Key: string; Label: string; Options: string list }

let variant key label options = { Key = key; Label = label; Options = options }
let baseline = variant "baseline" "Baseline ViT" []

/// What the session needs to know besides the paper's own context: where shared runs go and which data roots exist.
type Env =
    {
        Args: Args.Args
        /// The shared context: runs under `results/<profile>/backbones/runs`.
        Shared: Cli.Ctx
        Budget: Budget
        IsFull: bool
        Roots: Map<DataRoots.Dataset, string option>
    }

/// The shared context for `args`; at the full profile the dataset roots are resolved (missing ones are recorded on
/// `paper`, whose Results.finish prints them).
let env (args: Args.Args) (paper: Cli.Ctx) (datasets: DataRoots.Dataset list) =
    let isFull = args.Profile = Args.Full
    { Args = args
      Shared = { Cli.context args "backbones" with Planned = paper.Planned; Missing = paper.Missing; Executed = paper.Executed }
      Budget = budget args.Profile
      IsFull = isFull
      Roots = if isFull then Cli.needData paper datasets else Map.empty }

let root (e: Env) (d: DataRoots.Dataset) = e.Roots |> Map.tryFind d |> Option.flatten |> Option.defaultValue ("$" + DataRoots.envVar d)

/// The backbone every table is measured on.
let model (e: Env) = if e.IsFull then "vit_base_patch16_224" else "vit_tiny_scenes64"

let private modelSets (v: Variant) = v.Options |> List.map (sprintf "model.%s")

/// How a backbone is pretrained: at the full profile the committed config files trained in order (a later stage
/// starts from the previous stage's last weights through model.weights), the registry model they train and the model
/// keys a probe or analysis needs to rebuild it; at the CPU profiles `CpuConfig`, one run of the profile's backbone
/// cut to the budget (None: the recipe has no CPU form). `Key` prefixes the run names (empty for the default recipe).
type Recipe = { Key: string; Label: string; Configs: string list; Model: string; ModelOptions: string list; CpuConfig: string option }

/// ViT-B/16 with DeiT's supervised recipe: configs/full/vit-b16-imagenet.json. Neither STA/ANF nor Token Labeling
/// gives a pretraining recipe (docs/papers/sta-anf.md §2.4: epochs, resolution not found), so DeiT's is used.
/// CPU profiles: configs/fashion-objects-vit-tiny.json (AdamW 1e-3, warmup + cosine, label smoothing 0.1).
let deit =
    { Key = ""
      Label = "DeiT"
      Configs = [ "configs/full/vit-b16-imagenet.json" ]
      Model = "vit_base_patch16_224"
      ModelOptions = []
      CpuConfig = Some "configs/fashion-objects-vit-tiny.json" }

/// ViT-B/14 with DINOv2's self-supervised recipe (docs/dinov2.md): the teacher backbone at 224 px (16 × 16 positions),
/// with the LayerScale the recipe trains. CPU profiles: configs/fashion-objects-dinov2-short.json (docs/dinov2-quick.md:
/// Sinkhorn–Knopp targets, a fast teacher, KoLeo 0.3, a small head), its teacher backbone probed like the others.
let dinov2 =
    { Key = "dinov2"
      Label = "DINOv2"
      Configs = [ "configs/dinov2-vit-b14-in1k-short.json" ]
      Model = "vit_base_patch14_dinov2"
      ModelOptions = [ "img_size=224"; "init_values=1e-05" ]
      CpuConfig = Some "configs/fashion-objects-dinov2-short.json" }

/// ViT-B/16 with DeiT III's supervised recipe (docs/deit3.md): 400 epochs at 192 px, then 20 epochs at 224 px.
let deit3 =
    { Key = "deit3"
      Label = "DeiT-III"
      Configs = [ "configs/deit3-vit-b16-in1k-400ep.json"; "configs/deit3-vit-b16-in1k-ft224.json" ]
      Model = "vit_base_patch16_224"
      ModelOptions = [ "init_values=0.0001"; "no_embed_class=true" ]
      CpuConfig = None }

/// The run name of a recipe's stage for a variant: `pretrain-<variant>` for the default recipe's single stage (the
/// names every committed and planned run has), `pretrain-<recipe>-<variant>` and `finetune-<recipe>-<variant>` else.
let private stageName (r: Recipe) (v: Variant) (stage: int) =
    let verb = if stage = 0 then "pretrain" else "finetune"
    if r.Key = "" then sprintf "%s-%s" verb v.Key else sprintf "%s-%s-%s" verb r.Key v.Key

/// Pretraining of a variant. CPU profiles: the recipe's `CpuConfig` on fashion-objects cut to the budget (its
/// training pool is the Steps × Batch images a run sees; a DINOv2 run's k-NN memory and linear-evaluation set too).
/// Full: stage `stage` of `recipe`, with the ImageNet root and the variant's model options.
let pretrainStageConfig (e: Env) (recipe: Recipe) (v: Variant) (stage: int) : Cli.RunConfigArgs =
    let config = Cli.runConfig (stageName recipe v stage) []
    if e.IsFull then
        config
        |> Cli.withConfig recipe.Configs[stage]
        |> Cli.withOverrides [ sprintf "data.root=%s" (root e DataRoots.ImageNet) ]
        |> Cli.withOverrides (modelSets v)
    else
        let b = e.Budget
        let cpuConfig =
            recipe.CpuConfig
            |> Option.defaultWith (fun () ->
                failwithf
                    "Backbone: the %s recipe is defined at the full profile only (%s); the CPU profiles pretrain with DeiT's or DINOv2's"
                    recipe.Label
                    (String.Join(", ", recipe.Configs)))
        config
        |> Cli.withConfig cpuConfig
        |> Cli.withOverrides
            [ sprintf "optim.steps=%d" b.Steps
              sprintf "optim.warmup_steps=%d" b.Warmup
              sprintf "data.batch_size=%d" b.Batch
              sprintf "data.train_limit=%d" (b.Steps * b.Batch)
              sprintf "data.eval_limit=%d" b.EvalLimit
              "checkpoint.every_steps=0" ]
        |> Cli.withOverrides (modelSets v)

/// The default recipe's pretraining of a variant (DeiT's at full).
let pretrainConfig (e: Env) (v: Variant) : Cli.RunConfigArgs = pretrainStageConfig e deit v 0

/// The plain weights of a train run's `which` checkpoint (Cli.weights). A run finished in an earlier session may
/// have lost its checkpoints (they are gitignored, its final.json is committed): the path comes back all the same,
/// so dependent runs keep their hashes and are found finished, and the lib re-creates the weights (repeating the
/// run with its recorded thread count; Cli.recreate) only if a run that needs them has to execute.
let weightsOf (r: Cli.RunResult) (which: string) : string = Cli.weights r which

/// One pretrained variant at one seed, with its weights (plain timm keys) for the probes and the analysis, and the
/// model they load into (the recipe's at full, the profile's backbone else).
type Backbone = { Variant: Variant; Seed: int; Train: Cli.RunResult; Weights: string; RecipeKey: string; Model: string; ModelOptions: string list }

/// `pretrain` with further training settings beyond the variant's model options (e.g. token labeling).
let pretrainWith (e: Env) (c: Cli.Ctx) (v: Variant) (overrides: string list) (seed: int) : Backbone =
    let shared = { e.Shared with Args = c.Args } // the caller's thread setting (Cli.inParallel)
    let run = Cli.train shared (pretrainConfig e v |> Cli.withOverrides overrides) seed
    { Variant = v; Seed = seed; Train = run; Weights = weightsOf run "last"; RecipeKey = deit.Key; Model = model e; ModelOptions = [] }

let pretrain (e: Env) (c: Cli.Ctx) (v: Variant) (seed: int) : Backbone = pretrainWith e c v [] seed

/// A variant pretrained with `recipe`: at full each stage from the previous one's last weights, at the CPU profiles
/// the one run of its `CpuConfig` on the profile's backbone (a recipe without one is refused there rather than
/// silently replaced by another). `Train` is the last stage's run.
/// DeiT's single stage is the same command `pretrain` runs, so its runs are the ones the other scripts share.
let pretrainRecipe (e: Env) (c: Cli.Ctx) (recipe: Recipe) (v: Variant) (seed: int) : Backbone =
    let shared = { e.Shared with Args = c.Args }
    let stage (previous: Cli.RunResult option) (i: int) =
        let from = previous |> Option.map (fun r -> sprintf "model.weights=%s" (weightsOf r "last")) |> Option.toList
        Cli.train shared (pretrainStageConfig e recipe v i |> Cli.withOverrides from) seed
    let stages = if e.IsFull then recipe.Configs.Length else 1
    let run = List.init stages id |> List.fold (fun previous i -> Some(stage previous i)) None |> Option.get
    { Variant = v
      Seed = seed
      Train = run
      Weights = weightsOf run "last"
      RecipeKey = recipe.Key
      Model = (if e.IsFull then recipe.Model else model e)
      ModelOptions = (if e.IsFull then recipe.ModelOptions else []) }

/// Dense probe tasks: segmentation (mIoU), dense depth (NYUv2 / stand-in) and sparse depth (KITTI / stand-in).
type Probe =
    | Seg
    | Depth
    | SparseDepth

let probeName =
    function
    | Seg -> "seg"
    | Depth -> "depth"
    | SparseDepth -> "sparse-depth"

/// The probe recipe of each task at full: the committed config (DINOv2-style linear probes; its values cite their sources).
let fullProbeRecipe =
    function
    | Seg -> "configs/full/probe-seg-ade20k.json", DataRoots.Ade20k
    | Depth -> "configs/full/probe-depth-nyu.json", DataRoots.Nyu
    | SparseDepth -> "configs/full/probe-depth-kitti.json", DataRoots.Kitti

/// The probe of a backbone: the frozen pretrained variant (same model options, so ANF filters and class-path
/// parameters load). CPU profiles: the DINOv2 linear-probe defaults of `reproduce probe`, cut to the budget. Full: the
/// task's file in `fullProbeRecipe` with the dataset root.
let private probeConfigOf (e: Env) (p: Probe) (key: string) (modelName: string) (weights: string option) (options: string list) : Cli.RunConfigArgs =
    let data =
        match p, e.IsFull with
        | Seg, false -> [ "data.dataset=fashion-scenes" ]
        | Depth, false -> [ "data.dataset=fashion-scenes" ]
        | SparseDepth, false -> [ "data.dataset=fashion-scenes-sparse" ]
        | _, true -> [ sprintf "data.root=%s" (root e (snd (fullProbeRecipe p))) ]
    let size =
        if e.IsFull then
            []
        else
            [ sprintf "optim.steps=%d" e.Budget.ProbeSteps
              sprintf "data.train_limit=%d" e.Budget.ProbeTrainLimit
              sprintf "data.eval_limit=%d" e.Budget.ProbeEvalLimit ]
    let weightOverrides = weights |> Option.map (sprintf "model.weights=%s") |> Option.toList
    let config = Cli.runConfig (sprintf "%s-%s" (probeName p) key) []
    (if e.IsFull then config |> Cli.withConfig (fst (fullProbeRecipe p)) else config)
    |> Cli.withOverrides ([ sprintf "model.name=%s" modelName ] @ weightOverrides @ (options |> List.map (sprintf "model.%s")) @ data @ size)

/// The variant's key in run names, prefixed by its recipe's unless it is the default one.
let runKey (b: Backbone) = if b.RecipeKey = "" then b.Variant.Key else sprintf "%s-%s" b.RecipeKey b.Variant.Key

let probeConfig (e: Env) (p: Probe) (b: Backbone) : Cli.RunConfigArgs =
    let key = runKey b
    probeConfigOf e p key b.Model (Some b.Weights) (b.ModelOptions @ b.Variant.Options)

let private runProbe (e: Env) (c: Cli.Ctx) (p: Probe) (config: Cli.RunConfigArgs) (seed: int) =
    let shared = { e.Shared with Args = c.Args }
    match p with
    | Seg -> Cli.probeSeg shared config seed
    | Depth
    | SparseDepth -> Cli.probeDepth shared config seed

/// The same probe on the baseline model with no pretraining (its initialisation drawn from `seed`): the reference
/// that tells what pretraining gives the probes at this budget.
let probeRandomInit (e: Env) (c: Cli.Ctx) (p: Probe) (seed: int) : Cli.RunResult = runProbe e c p (probeConfigOf e p "random-init" (model e) None []) seed

let probe (e: Env) (c: Cli.Ctx) (p: Probe) (b: Backbone) : Cli.RunResult = runProbe e c p (probeConfig e p b) b.Seed

/// A probe run named `name` with further settings (e.g. an FCN head trained with the backbone).
let probeWith (e: Env) (c: Cli.Ctx) (p: Probe) (name: string) (overrides: string list) (b: Backbone) : Cli.RunResult =
    runProbe e c p ({ probeConfig e p b with Name = name } |> Cli.withOverrides overrides) b.Seed

/// `reproduce analyze` of a backbone: per-block statistics on the fashion-scenes test images.
let analyze (e: Env) (c: Cli.Ctx) (b: Backbone) : Cli.RunResult =
    let shared = { e.Shared with Args = c.Args }
    Cli.analyze
        shared
        { Name = sprintf "analyze-%s-s%d" (runKey b) b.Seed
          Model = b.Model
          Weights = Some b.Weights
          Overrides = b.ModelOptions @ b.Variant.Options
          Images = e.Budget.AnalyzeImages
          Root = None
          OutlierSigmas = None }

/// Per-block values of one key of an analysis (`blocks[i].<key>`), as (block, value); empty for a planned run.
let perBlock (key: string) (analysis: Cli.RunResult) : (int * float) list =
    match analysis.Output with
    | _ when analysis.Planned -> []
    | None -> failwithf "analysis run '%s' has no analysis.json" analysis.RelDir
    | Some file ->
        match (Cli.readJson file)["blocks"] with
        | :? JsonArray as blocks ->
            [ for b in blocks ->
                  let o = b.AsObject()
                  o["block"].GetValue<int>(), o[key].GetValue<float>() ]
        | _ -> failwithf "'%s' has no 'blocks' array" file

/// One row per block and metric of one analysis run: `metrics` are (analysis key, metric name, paper id), the blocks
/// those of the first key; rows are named "<label>, block <b>".
let blockRows (table: string) (label: string) (metrics: (string * string * string option) list) (r: Cli.RunResult) =
    let firstKey, _, _ = List.head metrics
    [ for block, _ in perBlock firstKey r do
          for key, metric, paperId in metrics ->
              let at (x: Cli.RunResult) = perBlock key x |> List.find (fst >> (=) block) |> snd
              Results.row table (sprintf "%s, block %d" label block) metric paperId at [ r ] ]

/// Δ% = 100 · (value − baseline value) / baseline value, paired by seed (a relative change, e.g. the paper's "−14%"
/// depth error); the runs, seeds and note are those of Results.deltaRow.
let relativeRow table rowName metric paperRef (value: Cli.RunResult -> float) (baseline: Cli.RunResult list) (runs: Cli.RunResult list) =
    let paired = Results.deltaRow table rowName metric paperRef value baseline runs
    let bySeed = baseline |> List.map (fun b -> b.Seed, value b) |> Map.ofList
    { paired with Values = runs |> List.map (fun r -> 100.0 * (value r - bySeed[r.Seed]) / bySeed[r.Seed]) }
