// Token Labeling / LV-ViT / MixToken ("All Tokens Matter", NeurIPS 2021; docs/papers/token-labeling.md §1):
// the paper's ablations in miniature on Fashion-MNIST, compared as Δ top-1 against a baseline trained with the
// same seed (the paper's absolute numbers are ImageNet's and are not comparable).
//
//   dotnet fsi scripts/token-labeling.fsx [--profile smoke|quick|full|released] [--seeds N] [--jobs N] [--threads N]
//
// What runs (quick profile; smoke is the same grid at a few steps, for the regression check):
//   annotator   resnet_tiny_fm28 trained once, then `reproduce annotate` writes its top-5 4×4 score maps of the
//               training images once (the paper: NFNet-F6 at 576, 18×18 maps); both cached like every run.
//   ablation    lvvit_tiny_fm28 (conv stem, skip_lam 2, aux head): baseline | CutMix | MixToken with image labels
//               (token_label.dense_weight=0, class target = GT mixed by area, aux logits out of the prediction)
//               | token labeling | TL + MixToken, each as Δ top-1 vs the baseline of its seed.
//   other ViTs  vit_tiny_fm28 (DeiT-style) baseline vs token labeling (Δ), beside the LV-ViT Δ.
//   aug         RandAugment + random erasing + Mixup + CutMix vs the same without Mixup (Cli.attempt: a
//               configuration the engine refused would make the rows unavailable with the engine's own message).
//   TL + CutMix token labels with CutMix (ReLabel-style), tried the same way: the engine refuses the combination
//               (LV-ViT uses MixToken instead), so that row is unavailable with its message.
//   seg (FCN)   CPU profiles: the scenes backbone (vit_tiny_scenes64, scripts/Backbone.fsx) pretrained on
//               fashion-objects without and with token labels (annotator resnet_tiny_objects64, 8×8 maps), then
//               fine-tuned with mmseg's FCN head on fashion-scenes (`probe.head=fcn`, `probe.train_backbone=true`);
//               Δ mIoU per seed (2 seeds). The "without" backbone is Backbone.fsx's baseline (shared with sta-anf).
//               Full: unavailable, see `fcnFullReason` (ADE20K is trained on at full by the UperNet rows instead).
//   model table params / GFLOPs of LV-ViT-T/S/M/L from the registry (comparable with the paper's model table).
// Run lengths: `budget` below (quick: 2 seeds, 100 steps of 64 on the first 6,400 training images, eval on the first
// 2,000 test images). Wall times: scripts/README.md ("Run times").
// Full profile: prints the ImageNet plan and which dataset roots are missing (lib/DataRoots.fsx). Every train command
// reads one recipe under configs/full (LV-ViT-S: the paper's; DeiT-S: DeiT's) plus the row's few --sets. The token
// labels are NFNet-F6's, as in the paper (docs/papers/token-labeling.md §1.4; docs/full-profile.md):
//   --teacher released  (default) TokenLabeling's released label_top5_train_nfnet folder (REPRODUCE_TOKEN_LABELS or
//                       "token-labels" in data-roots.json), checked by `reproduce data check token-labels` first
//   --teacher nfnet_f6  `reproduce annotate` with timm's dm_nfnet_f6 weights (REPRODUCE_NFNET_F6_WEIGHTS) at 576 px,
//                       crop 1.0, as generate_label.py (dm_nfnet_f6 is in the model zoo, timm's keys)
// No annotator is trained at full; the CPU profiles train theirs (resnet_tiny_fm28) as before.
// Full also trains LV-ViT-S/M/L + UperNet on ADE20K, mmseg's 160k (TokenLabelingUpernet.fsx; docs/full-profile.md §3):
// S from the TL + MixToken run's last weights, M/L from TokenLabeling's released ImageNet checkpoints (REPRODUCE_WEIGHTS
// or "weights" in data-roots.json); single-scale mIoU and pixel accuracy vs the paper's, and the multi-scale + flip mIoU
// of a second `probe seg` on each trained backbone and head (--aug-test ratios, flip).
#load "Backbone.fsx" "lib/TokenLabelCheck.fsx" "TokenLabelingReleased.fsx" "TokenLabelingUpernet.fsx"

open System

/// Where the full profile's token labels come from (`--teacher`, full profile only).
type Teacher =
    | ReleasedLabels
    | NfnetF6

let teacherUsage = "  --teacher      full profile: released (default: TokenLabeling's NFNet-F6 label folder) | nfnet_f6 (annotate with dm_nfnet_f6)"

/// `--teacher X` taken out of the command line; the rest goes to Args.
let argv, teacher =
    let rec go acc t =
        function
        | "--teacher" :: v :: rest ->
            match v with
            | "released" -> go acc (Some ReleasedLabels) rest
            | "nfnet_f6" -> go acc (Some NfnetF6) rest
            | other ->
                eprintfn "token-labeling.fsx: --teacher must be released or nfnet_f6, got '%s'\n%s\n%s" other (Args.usage "token-labeling.fsx") teacherUsage
                exit 2
        | [ "--teacher" ] ->
            eprintfn "token-labeling.fsx: --teacher needs a value\n%s" teacherUsage
            exit 2
        | ("-h" | "--help") as h :: rest ->
            printfn "%s" teacherUsage
            go (h :: acc) t rest
        | x :: rest -> go (x :: acc) t rest
        | [] -> List.rev acc, t
    go [] None (fsi.CommandLineArgs |> Array.toList |> List.tail)

let args =
    let a =
        Args.parseWith
            "token-labeling.fsx"
            (function
            | Args.Smoke -> 1
            | Args.Quick -> 2
            | Args.Full
            | Args.Released -> 1)
            argv
    if teacher.IsSome && a.Profile <> Args.Full then
        eprintfn "token-labeling.fsx: --teacher applies to the full profile (the CPU profiles train their own annotator)"
        exit 2
    { a with Command = String.Join(" ", "dotnet fsi scripts/token-labeling.fsx" :: (fsi.CommandLineArgs |> Array.toList |> List.tail)) }
let teacherOf = defaultArg teacher ReleasedLabels
let ctx = Cli.context args "token-labeling"

if args.Profile = Args.Released then TokenLabelingReleased.run ctx

/// Training length and data sizes of one profile (CPU profiles only; full uses the paper's recipe below).
type Budget =
    {
        Steps: int
        Warmup: int
        Batch: int
        /// Training images used (and annotated): Steps × Batch, so each is seen once.
        TrainLimit: int
        EvalLimit: int
        AnnotatorSteps: int
    }

let budget =
    match args.Profile with
    | Args.Smoke -> { Steps = 30; Warmup = 3; Batch = 32; TrainLimit = 960; EvalLimit = 500; AnnotatorSteps = 40 }
    | Args.Quick
    | Args.Full
    | Args.Released -> { Steps = 100; Warmup = 10; Batch = 64; TrainLimit = 6400; EvalLimit = 2000; AnnotatorSteps = 200 }

let isFull = args.Profile = Args.Full
// ADE20K: the UperNet rows (TokenLabelingUpernet.fsx); the FCN transfer row runs at the CPU profiles only (fcnFullReason).
let data =
    if isFull then
        Cli.needData ctx ([ DataRoots.ImageNet; DataRoots.Ade20k ] @ (if teacherOf = ReleasedLabels then [ DataRoots.TokenLabels ] else []))
    else
        Map.empty
let root d = data |> Map.tryFind d |> Option.flatten |> Option.defaultValue ("$" + DataRoots.envVar d)

/// The recipe of each model at full: the committed config (its values cite their sources).
let fullRecipes = [ "lvvit_s", "configs/full/lvvit-s-imagenet.json"; "deit_small_patch16_224", "configs/full/deit-s-imagenet.json" ] |> Map.ofList

/// The training recipe shared by every run. CPU profiles: configs/fashion-mnist-vit-tiny.json (AdamW 1e-3,
/// warmup + cosine, label smoothing 0.1, no Mixup/CutMix) cut to the budget. Full: the model's file in `fullRecipes`
/// (LV-ViT-S: §1.3; DeiT-S: DeiT's own recipe) with the dataset root.
let recipe (model: string) : Cli.RunConfigArgs -> Cli.RunConfigArgs =
    if isFull then
        Cli.withConfig fullRecipes[model] >> Cli.withOverrides [ sprintf "data.root=%s" (root DataRoots.ImageNet) ]
    else
        Cli.withConfig "configs/fashion-mnist-vit-tiny.json"
        >> Cli.withOverrides
            [ sprintf "model.name=%s" model
              sprintf "optim.steps=%d" budget.Steps
              sprintf "optim.warmup_steps=%d" budget.Warmup
              sprintf "data.batch_size=%d" budget.Batch
              sprintf "data.train_limit=%d" budget.TrainLimit
              sprintf "data.eval_limit=%d" budget.EvalLimit
              "checkpoint.every_steps=0" ]

let train (name: string) (model: string) (overrides: string list) (c: Cli.Ctx) (seed: int) =
    Cli.train c (Cli.runConfig name [] |> recipe model |> Cli.withOverrides overrides) seed

// ---- token labels: CPU profiles train an annotator once and annotate once; full uses NFNet-F6's ----------------

let annotatorModel = "resnet_tiny_fm28"
let annotator =
    if isFull then
        None
    else
        Some(
            Cli.train
                ctx
                (Cli.runConfig "annotator" []
                 |> recipe annotatorModel
                 |> Cli.withOverrides [ sprintf "optim.steps=%d" budget.AnnotatorSteps; "data.train_limit=null"; "checkpoint.every_steps=50" ])
                0
        )
let annotateWith (name: string) (model: string) (weights: string) (resolution: int) (limit: int option) (batch: int option) =
    let r =
        Cli.annotate
            ctx
            { Name = name
              Model = model
              Weights = weights
              Data = (if isFull then "imagenet" else "fashion-mnist")
              Root = (if isFull then Some(root DataRoots.ImageNet) else None)
              Split = "train"
              Resolution = resolution
              TopK = 5
              Limit = limit
              Batch = batch }
    defaultArg r.Output "<token-label store>"

let store =
    match annotator, teacherOf with
    | Some a, _ -> annotateWith "token-labels" annotatorModel (Cli.weights a "best") 28 (Some budget.TrainLimit) None
    | None, ReleasedLabels ->
        let labels = root DataRoots.TokenLabels
        TokenLabelCheck.checkReleased ctx labels (root DataRoots.ImageNet)
        labels
    // generate_label.py's command in the README: dm_nfnet_f6 --pretrained --img-size 576 -b 32 --crop-pct 1.0 (annotate's crop is 1.0).
    | None, NfnetF6 -> annotateWith "token-labels-nfnet-f6" "dm_nfnet_f6" "$REPRODUCE_NFNET_F6_WEIGHTS" 576 None (Some 32)

// ---- the grid ----------------------------------------------------------------------------------------------

let lvvit = if isFull then "lvvit_s" else "lvvit_tiny_fm28"
let deit = if isFull then "deit_small_patch16_224" else "vit_tiny_fm28"

/// Plain supervised training: no aux head, no MixToken (the LV-ViT registry entry has both on by default).
let plain = [ "model.return_dense=false"; "model.mix_token=false" ]
let tokenLabels = [ "token_label.enabled=true"; sprintf "token_label.source=%s" store ]
let cutmix = [ "aug.cutmix=1.0"; "aug.mixup=0" ]

/// name, model, overrides of every configuration trained per seed.
let grid =
    [ "lvvit-baseline", lvvit, plain
      "lvvit-cutmix", lvvit, plain @ cutmix
      // MixToken under image-level labels: the dense term is off (weight 0) and the prediction ignores the (then
      // untrained) aux head, so only the class token, with its GT target mixed by token area, is trained.
      "lvvit-mixtoken-gt",
      lvvit,
      tokenLabels @ [ "aug.mixtoken=true"; "token_label.dense_weight=0"; "token_label.class_target=ground_truth"; "model.aux_logit_weight=0" ]
      "lvvit-tl", lvvit, tokenLabels @ [ "model.mix_token=false" ]
      "lvvit-tl-mixtoken", lvvit, tokenLabels @ [ "aug.mixtoken=true" ]
      "deit-baseline", deit, []
      // DeiT's recipe has Mixup/CutMix; with token labels the engine takes MixToken's place for them (§1.6).
      "deit-tl", deit, tokenLabels @ (if isFull then [ "aug.mixup=0"; "aug.cutmix=0" ] else []) ]

let seeds = Args.seeds args
let runs =
    [ for name, model, overrides in grid do
          for seed in seeds -> fun (c: Cli.Ctx) -> (name, seed), train name model overrides c seed ]
    |> Cli.inParallel ctx
    |> List.groupBy (fst >> fst)
    |> List.map (fun (name, rs) -> name, rs |> List.map snd)
    |> Map.ofList

/// Runs the engine may refuse: Error carries the trainer's message. The seeds run side by side like the grid's.
let tryGrid (name: string) (model: string) (overrides: string list) =
    Cli.attempt (fun () -> seeds |> List.map (fun seed -> fun c -> train name model overrides c seed) |> Cli.inParallel ctx)

// The quick recipe turns train-time augmentation off (aug.no_aug in configs/fashion-mnist-vit-tiny.json): switch it
// back on, with timm's defaults for crop/flip/jitter, for the rows that ablate it.
// At full the recipe already has RandAugment and random erasing on: only Mixup and CutMix are added.
let augAll =
    if isFull then
        [ "aug.mixup=0.8"; "aug.cutmix=1.0" ]
    else
        [ "aug.no_aug=false"; "aug.randaugment=rand-m9-mstd0.5-inc1"; "aug.random_erasing=0.25"; "aug.mixup=0.8"; "aug.cutmix=1.0" ]
let augAllRuns = tryGrid "lvvit-aug-all" lvvit (plain @ augAll)
let augNoMixupRuns = tryGrid "lvvit-aug-no-mixup" lvvit (plain @ augAll @ [ "aug.mixup=0" ])
let tlCutmix = tryGrid "lvvit-tl-cutmix" lvvit (tokenLabels @ [ "model.mix_token=false" ] @ cutmix)

// ---- rows --------------------------------------------------------------------------------------------------

let top1 = Cli.metric "top1"
let baseline = runs["lvvit-baseline"]
let ablation = "ablation (LV-ViT quick)"
let delta table row paperRef name baseline = Results.deltaRow table row "Δ top-1" paperRef top1 baseline runs[name]

/// MixToken vs CutMix, both under image-level labels: Δ = top-1(MixToken) − top-1(CutMix) per seed.
let mixtokenVsCutmix =
    Results.deltaRow
        "MixToken vs CutMix"
        "image labels"
        "Δ top-1"
        (Some "tl-ablation-mixtoken-vs-cutmix-in-labels")
        top1
        runs["lvvit-cutmix"]
        runs["lvvit-mixtoken-gt"]

// ---- segmentation transfer (FCN): CPU profiles ----------------------------------------------------------------

let fcnFullReason =
    "the full row needs LV-ViT-S fine-tuned with FCN on 512×512 ADE20K crops (the paper's schedule is not found, docs/papers/token-labeling.md §1.8); the script wires the CPU stand-in only"

let transferTable = "segmentation transfer (FCN)"

/// Objects annotator → token labels of the backbone's pretraining images → TL pretraining → FCN fine-tuning of both
/// backbones on fashion-scenes. None at full.
let transfer =
    if isFull then
        None
    else
        let env = Backbone.env args ctx []
        let b = env.Budget
        let annotatorSteps = if args.Profile = Args.Smoke then 10 else 100
        let objectsAnnotator =
            Cli.train
                ctx
                (Cli.runConfig "objects-annotator" []
                 |> Cli.withConfig "configs/fashion-objects-annotator.json"
                 |> Cli.withOverrides
                     [ sprintf "optim.steps=%d" annotatorSteps
                       sprintf "optim.warmup_steps=%d" (annotatorSteps / 10)
                       sprintf "data.eval_limit=%d" b.EvalLimit
                       "checkpoint.every_steps=0" ])
                0
        let objectLabels =
            Cli.annotate
                ctx
                { Name = "object-token-labels"
                  Model = "resnet_tiny_objects64"
                  Weights = Backbone.weightsOf objectsAnnotator "last"
                  Data = "fashion-objects"
                  Root = None
                  Split = "train"
                  Resolution = 64
                  TopK = 5
                  Limit = Some(b.Steps * b.Batch)
                  Batch = None }
        let objectStore = defaultArg objectLabels.Output "<token-label store>"
        let tl = Backbone.variant "tl" "token labeling" []
        let pretrainTl (c: Cli.Ctx) seed = Backbone.pretrainWith env c tl [ "token_label.enabled=true"; sprintf "token_label.source=%s" objectStore ] seed
        let fcn (c: Cli.Ctx) (backbone: Backbone.Backbone) =
            Backbone.probeWith
                env
                c
                Backbone.Seg
                ("fcn-" + backbone.Variant.Key)
                // Head at the probe's lr (1e-2), backbone at a tenth of it (mmseg's backbone lr_mult 0.1, as SETR's
                // configs give the head 10× the backbone's lr): one lr for both collapsed both backbones to the
                // all-background floor (7.64 mIoU at 1e-2 and at 1e-3, measured). mmseg's ViT schedule (AdamW 6e-5, 160k
                // iterations) does not fit 100 steps.
                [ "probe.head=fcn"; "probe.train_backbone=true"; "probe.backbone_lr_mult=0.1" ]
                backbone
        let pairs =
            [ for seed in Args.seeds args |> List.truncate 2 ->
                  fun (c: Cli.Ctx) ->
                      let without = Backbone.pretrain env c Backbone.baseline seed
                      let withTl = pretrainTl c seed
                      (without, fcn c without), (withTl, fcn c withTl) ]
            |> Cli.inParallel ctx
        Some(objectsAnnotator, pairs)

let transferRows =
    match transfer with
    | None -> []
    | Some(objectsAnnotator, pairs) ->
        let withoutTl, withTl = List.map fst pairs, List.map snd pairs
        let train (b: Backbone.Backbone, _) = b.Train
        let miou = Cli.metric "mIoU"
        let note =
            "vit_tiny_scenes64 pretrained on fashion-objects, then FCN head + backbone fine-tuned on fashion-scenes (`probe.head=fcn`, `probe.train_backbone=true`)"
        [ Results.row transferTable "annotator (resnet_tiny_objects64)" "top-1 %" None top1 [ objectsAnnotator ]
          Results.deltaRow transferTable "pretraining: without → with TL" "Δ top-1" None top1 (withoutTl |> List.map train) (withTl |> List.map train)
          Results.row transferTable "ViT + FCN without token labeling" "mIoU" (Some "tl-seg-fcn-without") miou (withoutTl |> List.map snd)
          |> Results.withNote note
          Results.row transferTable "ViT + FCN with token labeling" "mIoU" (Some "tl-seg-fcn-with") miou (withTl |> List.map snd) |> Results.withNote note
          Results.deltaRow
              transferTable
              "ViT + FCN, without → with TL"
              "Δ mIoU"
              (Some "tl-seg-fcn-delta")
              miou
              (withoutTl |> List.map snd)
              (withTl |> List.map snd) ]

/// Full: LV-ViT-S/M/L + UperNet, mmseg's 160k schedule on ADE20K; S from the TL + MixToken run's last weights.
let upernet = if isFull then TokenLabelingUpernet.runs ctx (root DataRoots.Ade20k) (List.head runs["lvvit-tl-mixtoken"]) else []
/// Full: the same trained UperNets scored again with mmseg's multi-scale + flip test (their saved backbone and head).
let upernetMs = if isFull then TokenLabelingUpernet.msRuns ctx (root DataRoots.Ade20k) upernet else []

let augRows =
    match augAllRuns, augNoMixupRuns with
    | Ok all, Ok noMixup ->
        [ Results.deltaRow "augmentation ablation" "all four" "Δ top-1" None top1 baseline all
          Results.deltaRow "augmentation ablation" "Mixup removed" "Δ top-1 vs all four" (Some "tl-ablation-aug-mixup-removed-delta") top1 all noMixup ],
        []
    | Error why, _
    | _, Error why ->
        [],
        [ Results.unavailable "augmentation ablation" "all four (RandAugment, random erasing, Mixup, CutMix)" "top-1 %" why
          Results.unavailable "augmentation ablation" "Mixup removed" "Δ top-1" why ]

let tlCutmixRows =
    match tlCutmix with
    | Ok r ->
        [ Results.deltaRow "MixToken vs CutMix" "token labels" "Δ top-1" (Some "tl-ablation-mixtoken-vs-cutmix-relabel") top1 r runs["lvvit-tl-mixtoken"] ], []
    | Error why -> [], [ Results.unavailable "MixToken vs CutMix" "token labels (ReLabel-style supervision)" "Δ top-1" why ]

/// The paper's model table (params, GFLOPs at 224) against the registry: no training, so every profile checks it.
let modelRows =
    [ for name, label in [ "lvvit_t", "LV-ViT-T @224"; "lvvit_s", "LV-ViT-S @224"; "lvvit_m", "LV-ViT-M @224"; "lvvit_l_448", "LV-ViT-L @448" ] do
          let m = Cli.modelInfo ctx name []
          let note = Some(sprintf "`reproduce models --name %s` at %d px" name m.Resolution)
          let paramsRef = sprintf "tl-model-%s-%d-params" (name.Replace("_448", "").Replace("_", "-")) m.Resolution
          yield Results.constRow "model table" label "params (M)" (Some paramsRef) (float m.Params / 1e6) note
          // GFLOPs: the paper's own FLOPs table was not found (docs/papers/token-labeling.md §1.1), so there is nothing to compare with.
          yield Results.constRow "model table" label "GFLOPs" None m.Gflops note ]

let annotatorRows = annotator |> Option.map (fun a -> Results.row "annotator" annotatorModel "top-1 %" None top1 [ a ]) |> Option.toList

let rows =
    annotatorRows
    @ [ Results.row ablation "baseline" "top-1 %" None top1 baseline
        delta ablation "CutMix" None "lvvit-cutmix" baseline
        delta ablation "MixToken (image labels)" None "lvvit-mixtoken-gt" baseline
        delta ablation "token labeling" None "lvvit-tl" baseline
        delta ablation "TL + MixToken" None "lvvit-tl-mixtoken" baseline
        Results.row ablation "TL + MixToken" "top-1 %" (Some "tl-ablation-mixtoken-tl") top1 runs["lvvit-tl-mixtoken"]
        mixtokenVsCutmix
        delta "TL on other ViTs" (sprintf "DeiT-style ViT (%s)" deit) (Some "tl-other-vits") "deit-tl" runs["deit-baseline"]
        delta "TL on other ViTs" (sprintf "LV-ViT (%s)" lvvit) (Some "tl-other-vits") "lvvit-tl" baseline ]
    @ transferRows
    @ TokenLabelingUpernet.rows upernet
    @ TokenLabelingUpernet.msRows upernetMs
    @ fst tlCutmixRows
    @ fst augRows
    @ modelRows

let unavailableRows =
    (if isFull then [ Results.unavailable transferTable "LV-ViT-S + FCN, without → with TL" "mIoU" fcnFullReason ] else [])
    @ [ Results.unavailable
            "model table"
            "LV-ViT-T/S/M/L ImageNet top-1"
            "top-1 %"
            (if isFull then
                 "the full plan trains LV-ViT-S only (the ablation grid on ImageNet-1k, on a GPU: the `TL + MixToken` top-1 row); LV-ViT-T, -M and -L are not in it"
             else
                 "needs ImageNet-1k: full profile") ]
    @ snd tlCutmixRows
    @ snd augRows

Results.finish ctx rows unavailableRows |> ignore
