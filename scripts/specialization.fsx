// [CLS]/patch specialization ("Revisiting [CLS] and Patch Token Interaction in Vision Transformers", arXiv 2602.08626;
// docs/papers/specialization.md §3): separate LayerNorm (and LayerScale) parameters for the class token in every block,
// a separate QKV projection in the first third of the blocks. The paper's claims in miniature: norm-only vs norm + QKV,
// block-range and layer-choice ablations, low-rank (LoRA) class paths, on classification and on segmentation, dense
// depth and sparse depth probes; the parameter overhead; the per-block [CLS]/patch cosine similarity before and after
// the pre-attention LayerNorm.
//
//   dotnet fsi scripts/specialization.fsx [--profile smoke|quick|full|released] [--seeds N] [--jobs N] [--threads N]
//
// What runs (scripts/Backbone.fsx; runs shared with the other scripts in results/<profile>/backbones):
//   main        baseline | norm | norm + QKV (the paper's model): pretrain on fashion-objects (top-1), probes on
//               fashion-scenes: segmentation (mIoU; ADE20K), dense depth (RMSE; NYUv2), sparse depth (RMSE; KITTI),
//               and the token analysis (cosine per block)
//   ablations   QKV in the second half / in all blocks; attn.proj or MLP instead of QKV; LoRA class paths of rank 4
//               and 16: pretrain (top-1) and the segmentation probe, the paper's ablation metric; one seed
//   DINOv2      baseline | norm + QKV pretrained self-supervised (configs/fashion-objects-dinov2-short.json cut to
//               the budget, docs/dinov2-quick.md): the teacher's linear and k-NN top-1 (final.json), the segmentation
//               and dense-depth probes and the analysis, and the same run at lr 0 for one step (the random backbone's
//               k-NN); its tables are the supervised ones' names suffixed ", DINOv2", without paper references
// vit_tiny_scenes64 has 4 blocks, so "first third" = block 0 (⌊4/3⌋, as lucidrains' depth // 3) and "second half" =
// blocks 2–3; it has no LayerScale, so "norm" specializes the LayerNorms only (the paper: LN + LayerScale).
// The paper's numbers come from DINOv2 / DeiT-III ViT-B/L/H: the comparable quantities are Δ mIoU, Δ RMSE, Δ top-1
// against the baseline of the same seed, and the parameter overhead, which the registry gives exactly for the
// paper's DINOv2 ViT-B/14 and ViT-L/14. The supervised tables' top-1 is the pretraining's; the DINOv2 tables' is the
// linear evaluation of the frozen teacher (the paper's "linear acc").
// Seeds: 2 at quick (Args.parse below; the ablations 1), what results/quick/specialization holds; run lengths:
// scripts/Backbone.fsx.
// Wall times: scripts/README.md ("Run times").
// Quick pretraining is short (scripts/Backbone.fsx: ~24 % top-1): read the quick rows with that in mind.
// Full profile: the paper's pretraining frameworks (docs/papers/specialization.md §3.3) at ViT-B on ImageNet-1k:
// DINOv2 ViT-B/14 (configs/dinov2-vit-b14-in1k-short.json; every table, its classification rows the run's linear
// evaluation of the teacher) and DeiT-III ViT-B/16 (configs/deit3-vit-b16-in1k-400ep.json, then -ft224.json from its weights; the main
// variants, tables suffixed "DeiT-III"). It prints the ImageNet / ADE20K / NYUv2 / KITTI plan and which dataset
// roots are missing.
#load "Backbone.fsx"

open System

let args =
    Args.parse "specialization.fsx" (function
        | Args.Smoke -> 1
        | Args.Quick -> 2
        | Args.Full
        | Args.Released -> 1)
let ctx = Cli.context args "specialization"

// ---- released profile: the paper's cosine analysis on the published backbones (lib/Released.fsx) -----------------

/// The paper's analysis on the models it names (docs/papers/specialization.md §3.2): per block, mean cos([CLS], patch)
/// on the block input before and after its pre-attention LayerNorm, on DINOv2 ViT-S/B without and with registers and
/// on DeiT-III S/B, by `reproduce analyze` (its images: the first 32 fashion-scenes test images, resized to the
/// model's input; the paper reports the finding qualitatively, so the rows carry no paper value but the after-LN one).
let released () =
    let s = Released.start ctx
    let table = "[CLS]–patch cosine per block, released backbones"
    let runs = Released.analyses s "[CLS]/patch cosine per block" (Released.dinov2 @ Released.deit3) 32
    let rows () =
        [ for c, run in runs do
              yield!
                  Backbone.blockRows
                      table
                      c.Label
                      [ "cls_patch_cos_before_norm1", "cos([CLS], patch) before LN1", None
                        "cls_patch_cos_after_norm1", "cos([CLS], patch) after LN1", Some "cls-cosine-after-ln" ]
                      (Option.get run) ]
    Released.finish s rows []

if args.Profile = Args.Released then released ()
let env = Backbone.env args ctx [ DataRoots.ImageNet; DataRoots.Ade20k; DataRoots.Nyu; DataRoots.Kitti ]

/// A variant from `model.specialization.*` keys; `specialization={}` is the paper's model (norms + QKV in the first
/// third), a block range is `[start, end]` (end exclusive), `[0,0]` none and null the first third.
let spec key label (sets: string list) = Backbone.variant key label sets
let norm = spec "norm" "norm (LN, all blocks)" [ "specialization.qkv_blocks=[0,0]" ]
let qkv = spec "norm-qkv" "norm + QKV (first third)" [ "specialization={}" ]
let main = [ Backbone.baseline; norm; qkv ]

/// Blocks of the backbone (`reproduce models --show-options`: vit_tiny_scenes64 depth 4, vit_base_patch16_224 depth 12).
let depth = if env.IsFull then 12 else 4
let secondHalf = spec "qkv-second-half" "norm + QKV (second half)" [ sprintf "specialization.qkv_blocks=[%d,%d]" (depth / 2) depth ]
let allBlocks = spec "qkv-all" "norm + QKV (all blocks)" [ sprintf "specialization.qkv_blocks=[0,%d]" depth ]
let proj = spec "norm-proj" "norm + attn proj (first third)" [ "specialization.qkv_blocks=[0,0]"; "specialization.proj_blocks=null" ]
let mlp = spec "norm-mlp" "norm + MLP (first third)" [ "specialization.qkv_blocks=[0,0]"; "specialization.mlp_blocks=null" ]
let lora4 = spec "lora4" "norm + QKV, LoRA rank 4" [ "specialization.lora_rank=4" ]
let lora16 = spec "lora16" "norm + QKV, LoRA rank 16" [ "specialization.lora_rank=16" ]
let ablations = [ secondHalf; allBlocks; proj; mlp; lora4; lora16 ]

/// Everything measured on one variant at one seed; the ablations get no depth probes and no analysis.
type Measured =
    { Backbone: Backbone.Backbone; Seg: Cli.RunResult; Depth: Cli.RunResult option; SparseDepth: Cli.RunResult option; Analysis: Cli.RunResult option }

/// What a framework measures: its main variants (each with the probes and the analysis; the sparse-depth probe
/// where `SparseDepth`) and, where `Ablations`, the ablation variants (pretraining and segmentation probe).
type Framework = { Recipe: Backbone.Recipe; Main: Backbone.Variant list; SparseDepth: bool; Ablations: bool }

let measure (fw: Framework) (full: bool) (v: Backbone.Variant) (seed: int) (c: Cli.Ctx) =
    let b = Backbone.pretrainRecipe env c fw.Recipe v seed
    let extra ok f = if full && ok then Some(f ()) else None
    { Backbone = b
      Seg = Backbone.probe env c Backbone.Seg b
      Depth = extra true (fun () -> Backbone.probe env c Backbone.Depth b)
      SparseDepth = extra fw.SparseDepth (fun () -> Backbone.probe env c Backbone.SparseDepth b)
      Analysis = extra true (fun () -> Backbone.analyze env c b) }

/// The pretraining frameworks measured. CPU profiles: the supervised pretraining on fashion-objects for every table,
/// and a short DINOv2 run of the baseline and the paper's model (the paper's question under self-supervision,
/// docs/dinov2-quick.md; norm-only and sparse depth left out for the main command's time budget). Full: the paper's
/// two (docs/papers/specialization.md §3.3): DINOv2 for every table (the paper's main model) and DeiT-III for the
/// main variants (its "generality" row: the gains hold on the dense tasks).
let frameworks =
    let every recipe = { Recipe = recipe; Main = main; SparseDepth = true; Ablations = true }
    if env.IsFull then
        [ every Backbone.dinov2; { every Backbone.deit3 with Ablations = false } ]
    else
        [ every Backbone.deit; { Recipe = Backbone.dinov2; Main = [ Backbone.baseline; qkv ]; SparseDepth = false; Ablations = false } ]

/// The framework the paper's numbers are compared with (the first): its rows carry the paper references.
let primary = List.head frameworks

let seeds = Args.seeds args
/// The ablations run at the first seed only (as at full), for the main command's time budget.
let ablationSeeds = List.truncate 1 seeds

/// One piece of the parallel group: a variant measured at a seed, or the random-init reference below.
type Piece =
    | Measurement of (string * string) * Measured
    | RandomInit of Cli.RunResult

/// CPU profiles: the DINOv2 recipe's run at lr 0 for one step, whose teacher is the baseline's initialisation of the
/// same seed: the random backbone the short pretraining's k-NN and linear top-1 are read against.
let randomInitPieces =
    if env.IsFull then
        []
    else
        let config =
            Backbone.pretrainStageConfig env Backbone.dinov2 (Backbone.variant "random-init" "random init" []) 0
            |> Cli.withOverrides [ "optim.lr=0"; "optim.steps=1"; "optim.warmup_steps=0" ]
        [ for seed in seeds -> fun (c: Cli.Ctx) -> RandomInit(Cli.train { env.Shared with Args = c.Args } config seed) ]

let pieces =
    // The longest pieces first (DINOv2's pretrainings, then the main variants, the ablations, the random init), so
    // both workers stay busy to the end; the order changes no run.
    [ for fw in frameworks |> List.sortBy (fun fw -> if fw.Recipe.Key = Backbone.dinov2.Key then 0 else 1) do
          for full, vs, vSeeds in [ true, fw.Main, seeds; false, (if fw.Ablations then ablations else []), ablationSeeds ] do
              for v in vs do
                  for seed in vSeeds -> fun c -> Measurement((fw.Recipe.Key, v.Key), measure fw full v seed c) ]
    @ randomInitPieces
    |> Cli.inParallel ctx

let results =
    pieces
    |> List.choose (function
        | Measurement(key, m) -> Some(key, m)
        | RandomInit _ -> None)
    |> List.groupBy fst
    |> List.map (fun (key, ms) -> key, ms |> List.map snd)
    |> Map.ofList

let dinov2RandomInit =
    pieces
    |> List.choose (function
        | RandomInit r -> Some r
        | Measurement _ -> None)

// ---- Δ rows against the baseline (or another variant) of the same seed -------------------------------------

let measured (fw: Framework) (v: Backbone.Variant) = results[fw.Recipe.Key, v.Key]
let trains fw (v: Backbone.Variant) = measured fw v |> List.map _.Backbone.Train
let segs fw (v: Backbone.Variant) = measured fw v |> List.map _.Seg
let depths fw (v: Backbone.Variant) = measured fw v |> List.choose _.Depth
let sparse fw (v: Backbone.Variant) = measured fw v |> List.choose _.SparseDepth
let top1 = Cli.metric "top1"
let linearTop1 = Cli.metric "linear_top1"
let miou = Cli.metric "mIoU"
let rmse = Cli.metric "rmse"

let depthNote = "RMSE in the scene units of fashion-scenes (metres of the synthetic room), not NYUv2/KITTI metres"
let top1Note = "top-1 of the supervised pretraining on fashion-objects, not a linear probe of a self-supervised backbone"

/// A table's name for a framework: the base name, with the framework named after it where the profile measures
/// several, except the CPU profiles' supervised tables, which keep the names their committed rows and bands carry.
let tableOf (fw: Framework) (table: string) =
    if List.length frameworks = 1 || (not env.IsFull && fw = primary) then table else sprintf "%s, %s" table fw.Recipe.Label

/// The paper reference of a row: on the primary framework only.
let refOf (fw: Framework) (paperRef: string option) = if fw = primary then paperRef else None

/// The classification number of a framework's pretraining: for DINOv2 the run's linear evaluation of the teacher's
/// frozen [CLS] (the paper's "linear acc"), the supervised top-1 else.
let classification (fw: Framework) = if fw.Recipe.Key = Backbone.dinov2.Key then linearTop1 else top1

let classificationNote (fw: Framework) =
    if fw.Recipe.Key = Backbone.dinov2.Key then
        "linear evaluation of the DINOv2 teacher's frozen [CLS] at the end of its run (dinov2's lr grid, no augmentation; docs/dinov2.md)"
    elif not env.IsFull then
        top1Note
    else
        "top-1 of the DeiT-III fine-tuning at 224 px"

/// Δ of `value` for `v` against `against`, from the runs `runsOf` gives (pretraining, a probe).
let delta fw table (v: Backbone.Variant) metric paperRef value (runsOf: Framework -> Backbone.Variant -> Cli.RunResult list) (against: Backbone.Variant) =
    Results.deltaRow (tableOf fw table) v.Label metric (refOf fw paperRef) value (runsOf fw against) (runsOf fw v)

let b0 = Backbone.baseline

let has (fw: Framework) (v: Backbone.Variant) = List.contains v fw.Main

let normRows fw =
    let t = "norm specialization (LN + LayerScale, all blocks)"
    if not (has fw norm) then
        []
    else
        [ delta fw t norm "Δ mIoU" (Some "cls-norm-seg") miou segs b0
          delta fw t norm "Δ RMSE (m)" (Some "cls-norm-depth") rmse depths b0 |> Results.withNote depthNote
          delta fw t norm "Δ RMSE (m), sparse depth" None rmse sparse b0 |> Results.withNote depthNote
          delta fw t norm "Δ top-1" (Some "cls-norm-linear") (classification fw) trains b0 |> Results.withNote (classificationNote fw) ]

let qkvRows fw =
    let t = "QKV specialization (first third)"
    [ delta fw t qkv "Δ mIoU" (Some "cls-headline-seg") miou segs b0
      if has fw norm then { delta fw t qkv "Δ mIoU" (Some "cls-qkv-vs-norm-seg") miou segs norm with Row = qkv.Label + " vs norm" }
      delta fw t qkv "Δ RMSE (m)" None rmse depths b0 |> Results.withNote depthNote
      if fw.SparseDepth then
          Backbone.relativeRow (tableOf fw t) qkv.Label "Δ% RMSE, sparse depth" (refOf fw (Some "cls-best-kitti")) rmse (sparse fw b0) (sparse fw qkv)
          |> Results.withNote "the paper's −6.1% is its best case (DINOv2 ViT-L on KITTI)"
      delta fw t qkv "Δ top-1" None (classification fw) trains b0 |> Results.withNote (classificationNote fw) ]

/// The ablations: each Δ against the baseline of its seed; the paper's model (QKV in the first third) is the
/// reference row of every ablation table.
let ablationRows fw (table: string) (vs: (Backbone.Variant * string option * string option) list) =
    [ if fw.Ablations then
          for v, segRef, top1Ref in vs do
              yield delta fw table v "Δ mIoU" segRef miou segs b0
              yield delta fw table v "Δ top-1" top1Ref (classification fw) trains b0 |> Results.withNote (classificationNote fw) ]

let blockRows fw =
    ablationRows
        fw
        "block choice (QKV range; norms in all blocks)"
        [ qkv, Some "cls-first-third-seg", Some "cls-first-third-linear"; secondHalf, Some "cls-second-half-seg", None; allBlocks, None, None ]
let layerRows fw = ablationRows fw "layer choice (first third)" [ qkv, None, None; proj, None, None; mlp, Some "cls-mlp", None ]
let loraRows fw = ablationRows fw "low-rank class path (f_cls = f_patch + rank-r update)" [ qkv, None, None; lora4, None, None; lora16, None, None ]

// ---- parameter and FLOP overhead (registry counts: exact at every profile) ----------------------------------

let overheadTable = "parameter overhead"

/// Δ% params and Δ% GFLOPs of each variant on our backbone, and of norm / norm + QKV on the paper's DINOv2 ViT-B/14
/// and ViT-L/14 (which have LayerScale, so "norm" is LN + LS there, as in the paper).
let overheadRows =
    let pct a b = 100.0 * (a - b) / b
    let rowsFor (name: string) (vs: (Backbone.Variant * string option) list) (flopsRef: string option) =
        let plain = Cli.modelInfo ctx name []
        [ for v, paramsRef in vs do
              let m = Cli.modelInfo ctx name v.Options
              let label = sprintf "%s (%s)" v.Label name
              let note = Some(sprintf "`reproduce models --name %s --set %s` vs plain" name (String.Join(" --set ", v.Options)))
              yield Results.constRow overheadTable label "Δ% params" paramsRef (pct (float m.Params) (float plain.Params)) note
              if v.Key = qkv.Key then yield Results.constRow overheadTable label "Δ% FLOPs" flopsRef (pct m.Gflops plain.Gflops) note ]
    rowsFor (Backbone.model env) ((norm :: qkv :: ablations) |> List.map (fun v -> v, None)) None
    @ rowsFor "vit_base_patch14_dinov2" [ norm, None; qkv, Some "cls-qkv-params-vitb" ] (Some "cls-flops")
    @ rowsFor "vit_large_patch14_dinov2" [ norm, Some "cls-norm-params"; qkv, Some "cls-qkv-params-vitl" ] None

// ---- cosine similarity per block (plot data) ------------------------------------------------------------------

let cosineTable = "[CLS]–patch cosine per block (plot data)"

/// Mean over test images and patches of cos([CLS], patchᵢ) on each block's input, before and after its
/// pre-attention LayerNorm (norm1; the class path's norm1 when specialized), and cos(patch, patch) after it.
let cosineRows fw =
    let table = tableOf fw cosineTable
    let analyses (v: Backbone.Variant) = measured fw v |> List.choose _.Analysis
    let blocks = analyses b0 |> List.head |> Backbone.perBlock "cls_patch_cos_before_norm1" |> List.map fst
    let at key block (r: Cli.RunResult) = if r.Planned then nan else Backbone.perBlock key r |> List.find (fst >> (=) block) |> snd
    [ for v in fw.Main do
          for k in blocks do
              let rowName = sprintf "%s, block %d" v.Label k
              let after = if v.Key = b0.Key then refOf fw (Some "cls-cosine-after-ln") else None
              yield Results.row table rowName "cos([CLS], patch) before LN1" None (at "cls_patch_cos_before_norm1" k) (analyses v)
              yield Results.row table rowName "cos([CLS], patch) after LN1" after (at "cls_patch_cos_after_norm1" k) (analyses v)
              yield Results.row table rowName "cos(patch, patch) after LN1" None (at "patch_patch_cos_after_norm1" k) (analyses v) ]

// ---- unavailable and finish -------------------------------------------------------------------------------

let generality =
    if env.IsFull then
        Results.unavailable
            "generality"
            "registers / attention bias / ViT-L, ViT-H"
            "Δ mIoU"
            "the full profile trains ViT-B only (DINOv2 ViT-B/14, DeiT-III ViT-B/16), without registers or attention bias"
    else
        Results.unavailable
            "generality"
            "registers / attention bias / ViT-L, ViT-H / DeiT-III"
            "Δ mIoU"
            "one backbone size, pretrained with a short supervised and a short DINOv2 run at this profile; the full profile pretrains with DINOv2 and DeiT-III (docs/dinov2.md, docs/deit3.md)"

let unavailableRows =
    [ Results.unavailable "vs CaiT class attention" "specialization vs CaiT (attention bias)" "Δ mIoU" "the engine has no CaiT class-attention model"
      Results.unavailable "best case" "DINOv2 ViT-L, COCO" "Δ% AP" "the engine has no detection head and no COCO reader"
      Results.unavailable "best case" "DINOv2 ViT-L, Cityscapes" "Δ% mIoU" "the engine reads ADE20K only for segmentation (no Cityscapes reader)"
      generality ]

let knnTop1 = Cli.metric "knn_top1"
let knnNote = "weighted 20-NN of the teacher's normalised [CLS] (dinov2's eval/knn.py), the training pool as memory; chance 10 %"

let absoluteRows fw =
    let t = tableOf fw "main (absolute)"
    let isDinov2 = fw.Recipe.Key = Backbone.dinov2.Key
    [ for v in fw.Main do
          yield
              Results.row t v.Label "top-1 %" None (classification fw) (trains fw v)
              |> fun r -> if env.IsFull || isDinov2 then Results.withNote (classificationNote fw) r else r
          if isDinov2 then yield Results.row t v.Label "k-NN top-1 %" None knnTop1 (trains fw v) |> Results.withNote knnNote
          yield Results.row t v.Label "mIoU" None miou (segs fw v)
          yield Results.row t v.Label "RMSE (m)" None rmse (depths fw v) |> Results.withNote depthNote
          if fw.SparseDepth then yield Results.row t v.Label "RMSE (m), sparse depth" None rmse (sparse fw v) |> Results.withNote depthNote
      if isDinov2 && not dinov2RandomInit.IsEmpty then
          let label = "random init (lr 0, 1 step)"
          yield Results.row t label "top-1 %" None linearTop1 dinov2RandomInit |> Results.withNote (classificationNote fw)
          yield Results.row t label "k-NN top-1 %" None knnTop1 dinov2RandomInit |> Results.withNote knnNote
          yield
              Results.deltaRow t "Baseline ViT vs random init" "Δ k-NN top-1" None knnTop1 dinov2RandomInit (trains fw b0)
              |> Results.withNote "what the short DINOv2 pretraining adds to the random backbone's k-NN, paired by seed" ]

let plots =
    let rows = cosineRows primary
    let table = tableOf primary cosineTable
    [ "cls-patch-cosine-per-block",
      Results.perBlockPlot
          "cos([CLS], patch) per block, before and after the pre-attention LayerNorm"
          "mean cosine"
          table
          [ "cos([CLS], patch) before LN1"; "cos([CLS], patch) after LN1" ]
          rows
      "patch-patch-cosine-per-block",
      Results.perBlockPlot "cos(patch, patch) per block after the pre-attention LayerNorm" "mean cosine" table [ "cos(patch, patch) after LN1" ] rows ]

let measuredRows =
    let per f = frameworks |> List.collect f
    per absoluteRows @ per normRows @ per qkvRows @ per blockRows @ per layerRows @ per loraRows @ overheadRows @ per cosineRows

Results.finishWithPlots ctx measuredRows unavailableRows plots |> ignore
