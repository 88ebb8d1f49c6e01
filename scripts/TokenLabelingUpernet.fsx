/// The full profile's ADE20K UperNet rows of token-labeling.fsx (README "Segmentation"; docs/papers/token-labeling.md
/// §1.8–1.9): LV-ViT-S/M/L + UperNet trained with mmseg's 160k schedule, `reproduce probe seg` on the committed
/// configs/upernet-lvvit-{s,m,l}-ade20k-160k.json (backbone trained with the heads), scored single-scale by the training
/// run itself and again with mmseg's multi-scale + flip test by a second `probe seg` that reads the run's trained
/// backbone and head (backbone.safetensors, head.safetensors) without training. The paper's segmentation backbones
/// start from the LV-ViT trained on ImageNet-1k with token labeling (TokenLabeling's seg configs leave `pretrained`
/// empty; the ImageNet checkpoint is given when training starts): LV-ViT-S from the full profile's own TL + MixToken
/// run, M and L (not trained on ImageNet by the full profile) from TokenLabeling's released ImageNet checkpoints.
module TokenLabelingUpernet

open System.IO

/// One UperNet row: the model size, its committed 160k recipe and where its ImageNet backbone comes from.
type Size =
    {
        Key: string
        Config: string
        /// The released ImageNet checkpoint it starts from; None: the full profile's own LV-ViT-S run.
        Released: Released.Checkpoint option
        /// The segmentation backbone's model options beyond the recipe (docs/released-weights.md): LayerNorm eps 1e-6,
        /// and for L `skip_lam` left at its default 1.0 by the seg config (the ImageNet LV-ViT-L uses 3).
        ModelSets: string list
    }

let private released model = Released.lvvit |> List.map fst |> List.find (fun c -> c.Model = model)

/// M starts from the 224 checkpoint (its seg backbone is built at 512 from it); L from the 448 one (its seg config
/// builds the backbone at 448, img_size=(448,448)).
let sizes =
    [ for key, from in [ "s", None; "m", Some(released "lvvit_m"); "l", Some(released "lvvit_l_448") ] ->
          { Key = key
            Config = sprintf "configs/upernet-lvvit-%s-ade20k-160k.json" key
            Released = from
            ModelSets = [ "model.norm_eps=1e-06" ] @ (if key = "l" then [ "model.skip_lam=1" ] else []) } ]

/// The released checkpoint `c` in the weights folder (REPRODUCE_WEIGHTS or "weights" in data-roots.json, as the
/// released profile finds it). Absent: recorded as missing data with its URL, and its expected path returned for the plan.
let releasedWeights (ctx: Cli.Ctx) (purpose: string) (c: Released.Checkpoint) : string =
    let folder = Released.weightsDir ctx.Args
    match folder with
    | Ok dir when File.Exists(Path.Combine(dir, c.File)) -> Path.Combine(dir, c.File)
    | _ ->
        let path, why =
            match folder with
            | Ok dir -> Path.Combine(dir, c.File), sprintf "not in the weights folder %s" dir
            | Error why -> "<weights>/" + c.File, why
        let line = sprintf "%s (%s, for %s): %s; download %s into the weights folder" c.File c.Label purpose why c.Url
        lock ctx.Missing (fun () -> if not (ctx.Missing.Contains line) then ctx.Missing.Add line)
        path

/// The three trainings, each `probe seg` on its recipe with the ADE20K root and its backbone's ImageNet weights
/// (`lvvitS`: the LV-ViT-S run whose last weights S starts from). Returns each size with its run.
let runs (ctx: Cli.Ctx) (ade20k: string) (lvvitS: Cli.RunResult) : (Size * Cli.RunResult) list =
    [ for s in sizes ->
          let label = sprintf "LV-ViT-%s + UperNet" (s.Key.ToUpperInvariant())
          let weights =
              match s.Released with
              | None -> Cli.weights lvvitS "last"
              | Some c -> releasedWeights ctx (label + " backbone") c
          let config =
              Cli.runConfig (sprintf "upernet-lvvit-%s" s.Key) []
              |> Cli.withConfig s.Config
              |> Cli.withOverrides ([ sprintf "data.root=%s" ade20k; sprintf "model.weights=%s" weights ] @ s.ModelSets)
          s, Cli.probeSeg ctx config lvvitS.Seed ]

let table = "ADE20K UperNet 160k"

/// The multi-scale + flip evaluation of each trained run (`runs`): `probe seg` on the same recipe with the run's
/// backbone.safetensors as `model.weights` and its head.safetensors as `probe.head_weights` (no training step), the
/// ratios and flip of mmseg's `--aug-test` (TokenLabeling's README: "add --aug-test to test on multi scale").
let msRuns (ctx: Cli.Ctx) (ade20k: string) (runs: (Size * Cli.RunResult) list) : (Size * Cli.RunResult) list =
    [ for s, r in runs ->
          let backbone = r.Output |> Option.defaultValue (Cli.repoPath (Path.Combine(r.Dir, "backbone.safetensors")))
          let config =
              Cli.runConfig (sprintf "upernet-lvvit-%s-msflip" s.Key) []
              |> Cli.withConfig s.Config
              |> Cli.withOverrides (
                  [ sprintf "data.root=%s" ade20k
                    sprintf "model.weights=%s" backbone
                    sprintf "probe.head_weights=%s" (Cli.repoPath (Path.Combine(r.Dir, "head.safetensors")))
                    "probe.train_backbone=false" ]
                  @ s.ModelSets
                  @ Released.msFlip Released.mmsegAugTest
              )
          s, Cli.probeSeg ctx config r.Seed ]

/// mIoU and pixel accuracy (single scale at the ADE20K test scale (2048, 512), slide 512/341) of each run against the paper's.
let rows (runs: (Size * Cli.RunResult) list) : Reproduce.Report.Measured.MeasuredRow list =
    [ for s, r in runs do
          let label = sprintf "LV-ViT-%s + UperNet" (s.Key.ToUpperInvariant())
          let from =
              match s.Released with
              | None -> "backbone: this profile's LV-ViT-S ImageNet run (TL + MixToken), last weights"
              | Some c -> sprintf "backbone: TokenLabeling's released %s" c.File
          yield Results.row table label "mIoU (single-scale)" (Some(sprintf "tl-upernet-%s-miou-ss" s.Key)) (Cli.metric "mIoU") [ r ] |> Results.withNote from
          yield
              Results.row table label "pixel acc %" (Some(sprintf "tl-upernet-%s-pixacc" s.Key)) (Cli.metric "aAcc") [ r ]
              |> Results.withNote (from + "; the README does not say the scale mode of its pixel accuracy, ours is single-scale") ]

/// The multi-scale + flip mIoU of each `msRuns` evaluation against the paper's "mIoU (ms)".
let msRows (runs: (Size * Cli.RunResult) list) : Reproduce.Report.Measured.MeasuredRow list =
    [ for s, r in runs ->
          Results.row
              table
              (sprintf "LV-ViT-%s + UperNet" (s.Key.ToUpperInvariant()))
              "mIoU (multi-scale)"
              (Some(sprintf "tl-upernet-%s-miou-ms" s.Key))
              (Cli.metric "mIoU")
              [ r ]
          |> Results.withNote "mmseg's --aug-test: ratios 0.5–1.75 of the ADE20K test scale (2048, 512), each also flipped, probabilities averaged" ]
