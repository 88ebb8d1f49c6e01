/// The `released` profile of the paper scripts: the published checkpoints, evaluated and analysed through the CLI on
/// the real datasets, the cheapest numbers directly comparable with the papers. The weights live in one folder:
/// `REPRODUCE_WEIGHTS`, else "weights" in data-roots.json (`--data-config FILE`); each file keeps its official name.
/// Without a file the profile prints its plan, every missing file with its official download URL, and exits 0
/// (`finish`); with the files it runs the CLI (`reproduce eval` / `reproduce analyze`) and writes measured.json
/// like every profile.
module Released

#load "Args.fsx" "DataRoots.fsx" "Cli.fsx" "Results.fsx"

open System
open System.IO

/// One released checkpoint: the registry model that loads it, its official file name and download URL.
type Checkpoint =
    {
        Model: string
        /// The official file name (what the download is called; the profile looks for exactly this name).
        File: string
        Url: string
        /// Human-readable name in tables, e.g. "LV-ViT-S @224".
        Label: string
    }

let private tl = "https://github.com/zihangJiang/TokenLabeling/releases/download"
let private fb = "https://dl.fbaipublicfiles.com"

let private ck model file url label = { Model = model; File = file; Url = url; Label = label }

/// TokenLabeling's ImageNet checkpoints (zihangJiang/TokenLabeling, README.md), with the paper-row id suffix.
let lvvit =
    [ ck "lvvit_t" "lvvit_t.pth" (tl + "/v0.2.0/lvvit_t.pth") "LV-ViT-T @224", "t-224"
      ck "lvvit_s" "lvvit_s-26M-224-83.3.pth.tar" (tl + "/1.0/lvvit_s-26M-224-83.3.pth.tar") "LV-ViT-S @224", "s-224"
      ck "lvvit_s_384" "lvvit_s-26M-384-84.4.pth.tar" (tl + "/1.0/lvvit_s-26M-384-84.4.pth.tar") "LV-ViT-S @384", "s-384"
      ck "lvvit_m" "lvvit_m-56M-224-84.0.pth.tar" (tl + "/1.0/lvvit_m-56M-224-84.0.pth.tar") "LV-ViT-M @224", "m-224"
      ck "lvvit_m_384" "lvvit_m-56M-384-85.4.pth.tar" (tl + "/1.0/lvvit_m-56M-384-85.4.pth.tar") "LV-ViT-M @384", "m-384"
      ck "lvvit_m_448" "lvvit_m-56M-448-85.5.pth.tar" (tl + "/1.0/lvvit_m-56M-448-85.5.pth.tar") "LV-ViT-M @448", "m-448"
      ck "lvvit_l_448" "lvvit_l-150M-448-86.2.pth.tar" (tl + "/1.0/lvvit_l-150M-448-86.2.pth.tar") "LV-ViT-L @448", "l-448"
      ck "lvvit_l_512" "lvvit_l-150M-512-86.4.pth.tar" (tl + "/1.0/lvvit_l-150M-512-86.4.pth.tar") "LV-ViT-L @512", "l-512" ]

/// DeiT's ImageNet-1k checkpoints (facebookresearch/deit, README.md), the baselines of the LV-ViT table.
let deit =
    [ ck "deit_small_patch16_224" "deit_small_patch16_224-cd65a155.pth" (fb + "/deit/deit_small_patch16_224-cd65a155.pth") "DeiT-S @224", "s"
      ck "deit_base_patch16_224" "deit_base_patch16_224-b5f2ef4d.pth" (fb + "/deit/deit_base_patch16_224-b5f2ef4d.pth") "DeiT-B @224", "b" ]

/// DeiT-III ImageNet-1k checkpoints (facebookresearch/deit, README_revenge.md).
let deit3 =
    [ ck "deit3_small_patch16_224" "deit_3_small_224_1k.pth" (fb + "/deit/deit_3_small_224_1k.pth") "DeiT-III-S @224"
      ck "deit3_base_patch16_224" "deit_3_base_224_1k.pth" (fb + "/deit/deit_3_base_224_1k.pth") "DeiT-III-B @224" ]

/// DINOv2's hub backbones, without and with 4 registers (facebookresearch/dinov2, README.md / hubconf).
let dinov2 =
    [ for size, name in [ "small", "s"; "base", "b" ] do
          for reg in [ false; true ] ->
              let hub = sprintf "dinov2_vit%s14%s" name (if reg then "_reg4" else "")
              ck
                  (sprintf "vit_%s_patch14%s_dinov2" size (if reg then "_reg4" else ""))
                  (hub + "_pretrain.pth")
                  (sprintf "%s/dinov2/dinov2_vit%s14/%s_pretrain.pth" fb name hub)
                  (sprintf "DINOv2 ViT-%s/14%s" (name.ToUpperInvariant()) (if reg then " + 4 registers" else "")) ]

/// A released dense head: its checkpoint, the backbone it sits on, what `reproduce probe` it needs and the model-card
/// row it is compared with.
type Head =
    {
        Checkpoint: Checkpoint
        /// The backbone's weights (the head's own file for a segmentor that holds both).
        Backbone: Checkpoint
        /// seg or depth.
        Task: string
        /// ade20k or nyu (the dataset root the evaluation reads).
        Data: DataRoots.Dataset
        /// `--set` overrides of the evaluation (blocks, slide inference).
        Overrides: string list
        /// The row of results/paper (None when the released head has no published number of its own).
        PaperRef: string option
        /// Evaluated with mmseg's multi-scale + flip test (`probe.test_scales`, `probe.test_flip` in Overrides): the
        /// run's name gets "-msflip" and the row's metric says so.
        MultiScale: bool
    }

let private number (r: float) = r.ToString(Globalization.CultureInfo.InvariantCulture)

/// The `--set` overrides of mmseg's multi-scale + flip test over `ratios` (docs/protocols/dense-probes.md §5.4).
let msFlip (ratios: float list) = [ sprintf "probe.test_scales=[%s]" (ratios |> List.map number |> String.concat ","); "probe.test_flip=true" ]

/// mmseg 0.x tools/test.py `--aug-test`: img_ratios [0.5, 0.75, 1.0, 1.25, 1.5, 1.75] with flip (hard-coded there), what
/// TokenLabeling's README runs for its "mIoU (ms)" column.
let mmsegAugTest = [ 0.5; 0.75; 1.0; 1.25; 1.5; 1.75 ]

/// DINOv2's "+ms" test ratios: img_ratios [1.0, 1.32, 1.73, 2.28, 3.0] with flip (the official ms config is a separate
/// download; secondary sources, UNVERIFIED; docs/protocols/dense-probes.md §5.1).
let dinov2MsRatios = [ 1.0; 1.32; 1.73; 2.28; 3.0 ]

/// The run name of a head's evaluation.
let headRunName (h: Head) = "released-" + h.Checkpoint.File.Replace(".pth", "") + (if h.MultiScale then "-msflip" else "")

/// The mIoU metric label of a segmentation head's row.
let miouMetric (h: Head) = if h.MultiScale then "mIoU (multi-scale + flip)" else "mIoU (single scale)"

/// DINOv2's released dense heads for ViT-S/B (dl.fbaipublicfiles.com/dinov2/<model>/; dinov2/hub/depthers.py and
/// notebooks/semantic_segmentation.ipynb): the ADE20K "linear" head (BN + 1×1 conv on the last block, single scale; the
/// model card gives no single-scale linear number, so this row has no paper value), the ADE20K "+ms" head (BN + 1×1 conv
/// on the last four blocks resize-concatenated, the notebook's `HEAD_TYPE = "ms"`) with the multi-scale + flip test
/// over DINOv2's ratios, against the model card's "multiscale" ADE20K mIoU, the NYUv2 "linear4" depth head (blocks
/// [2, 5, 8, 11], the model card's "linear, 4 layers" RMSE) and the KITTI "linear4" depth head (range 1e-3…80 m, Garg
/// crop; the model card has no KITTI number, so no paper value). ADE20K: slide inference with windows of the backbone's
/// 518-pixel input at the default stride of 2/3 of the window, over the image at its own scale (mmseg's ADE20K test mode
/// is 512 at stride 341 after a resize to a 512 short side; the ms config's base scale is not known;
/// docs/protocols/dense-probes.md §5).
let dinov2Heads =
    [ for name in [ "s"; "b" ] do
          let hub = sprintf "dinov2_vit%s14" name
          let size = if name = "s" then "small" else "base"
          let backbone = sprintf "vit_%s_patch14_dinov2" size
          let weights = dinov2 |> List.find (fun c -> c.Model = backbone)
          let url file = sprintf "%s/dinov2/%s/%s" fb hub file
          let label what = sprintf "DINOv2 ViT-%s/14 %s" (name.ToUpperInvariant()) what
          yield
              { Checkpoint = ck backbone (hub + "_ade20k_linear_head.pth") (url (hub + "_ade20k_linear_head.pth")) (label "ADE20K linear head")
                Backbone = weights
                Task = "seg"
                Data = DataRoots.Ade20k
                Overrides = [ "probe.layers=[-1]"; "probe.slide=true" ]
                PaperRef = None
                MultiScale = false }
          yield
              { Checkpoint = ck backbone (hub + "_ade20k_ms_head.pth") (url (hub + "_ade20k_ms_head.pth")) (label "ADE20K +ms head")
                Backbone = weights
                Task = "seg"
                Data = DataRoots.Ade20k
                Overrides = [ "probe.layers=[8,9,10,11]"; "probe.slide=true" ] @ msFlip dinov2MsRatios
                PaperRef = Some(sprintf "dinov2-card-%s-ade20k" name)
                MultiScale = true }
          yield
              { Checkpoint = ck backbone (hub + "_nyu_linear4_head.pth") (url (hub + "_nyu_linear4_head.pth")) (label "NYUv2 linear4 head")
                Backbone = weights
                Task = "depth"
                Data = DataRoots.Nyu
                Overrides = [ "probe.layers=[2,5,8,11]" ]
                PaperRef = Some(sprintf "dinov2-card-%s-nyuv2" name)
                MultiScale = false }
          yield
              { Checkpoint = ck backbone (hub + "_kitti_linear4_head.pth") (url (hub + "_kitti_linear4_head.pth")) (label "KITTI linear4 head")
                Backbone = weights
                Task = "depth"
                Data = DataRoots.Kitti
                Overrides = [ "probe.layers=[2,5,8,11]" ]
                PaperRef = None
                MultiScale = false } ]

/// TokenLabeling's ADE20K UperNet segmentors (README "Segmentation"; mmseg checkpoints holding the backbone, side
/// layers, UPerHead and auxiliary FCN head), evaluated as their configs test them
/// (seg/configs/lvvit/upernet_lvvit_*_512x512_160k_ade20k.py): slide windows of 512 at stride 341 over the image
/// rescaled keeping its aspect ratio to fit the test img_scale (2048, 512) of the mmseg 0.x ADE20K dataset base they
/// inherit (`probe.test_scale`; the --aug-test ratios multiply that scale), blocks out_indices, the segmentation
/// backbone's LayerNorm eps 1e-6 and, for L, its skip_lam default 1.0 (the config does not set it; the ImageNet
/// LV-ViT-L uses 3). Each segmentor twice: single scale against the paper's
/// single-scale mIoU, and with mmseg's `--aug-test` (the README's "add --aug-test to test on multi scale": ratios
/// 0.5…1.75 and flip) against its multi-scale mIoU.
let lvvitUpernet =
    [ for s, blocks, extra in [ "s", "[6,9,12,15]", []; "m", "[10,13,16,19]", []; "l", "[14,17,20,23]", [ "model.skip_lam=1" ] ] do
          let c =
              ck
                  (sprintf "lvvit_%s" s)
                  (sprintf "upernet_lvvit_%s.pth" s)
                  (sprintf "%s/v1.1-seg/upernet_lvvit_%s.pth" tl s)
                  (sprintf "LV-ViT-%s + UperNet" (s.ToUpperInvariant()))
          let single =
              { Checkpoint = c
                Backbone = c
                Task = "seg"
                Data = DataRoots.Ade20k
                Overrides =
                  [ "model.img_size=512"; "model.norm_eps=1e-06" ]
                  @ extra
                  @ [ "probe.head=upernet"
                      "probe.layers=" + blocks
                      "probe.slide=true"
                      "probe.crop_size=512"
                      "probe.stride=341"
                      "probe.test_scale=[2048,512]" ]
                PaperRef = Some(sprintf "tl-upernet-%s-miou-ss" s)
                MultiScale = false }
          yield single
          yield { single with Overrides = single.Overrides @ msFlip mmsegAugTest; PaperRef = Some(sprintf "tl-upernet-%s-miou-ms" s); MultiScale = true } ]

/// The weights folder: `REPRODUCE_WEIGHTS`, else "weights" in the data-roots file.
let weightsDir (args: Args.Args) : Result<string, string> = DataRoots.resolveFolder args "weights" "REPRODUCE_WEIGHTS"

/// What a released profile found: the folder (or why there is none) and the checkpoints it asked for.
type Session =
    {
        Ctx: Cli.Ctx
        Folder: Result<string, string>
        /// Checkpoints asked for and not found, with what they were for.
        Missing: ResizeArray<Checkpoint * string>
        /// The commands the profile runs (shown as the plan while files are missing).
        Commands: ResizeArray<string>
        /// Model options added to the commands: `REPRODUCE_RELEASED_MODEL` ("embed_dim=8;num_heads=2;deit_:depth=2",
        /// keys of the model record, each for every model or, after `PREFIX:`, for the models whose name starts with
        /// PREFIX), for stand-in weights of shrunk models (the end-to-end tests); empty for the real files.
        ModelSets: (string option * string) list
        /// Evaluation settings added after each released head's own (`REPRODUCE_RELEASED_PROBE`, "probe.key=value;…"):
        /// a cheaper test scale for stand-in images in the end-to-end tests; empty for the real files.
        ProbeSets: string list
    }

// "k=v" applies to every model, "PREFIX:k=v" to the models named PREFIX…; a key never holds ':', a value may.
let private releasedSets () =
    match Environment.GetEnvironmentVariable "REPRODUCE_RELEASED_MODEL" with
    | null
    | "" -> []
    | v ->
        [ for item in v.Split(';', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries) ->
              match item.IndexOf ':', item.IndexOf '=' with
              | colon, equals when colon > 0 && (equals < 0 || colon < equals) -> Some(item.Substring(0, colon)), item.Substring(colon + 1)
              | _ -> None, item ]

/// The `REPRODUCE_RELEASED_MODEL` options that apply to `model`, key=value.
let private releasedSetsFor (s: Session) (model: string) =
    s.ModelSets
    |> List.choose (fun (prefix, o) ->
        match prefix with
        | Some p when not (model.StartsWith(p, StringComparison.Ordinal)) -> None
        | _ -> Some o)

let private releasedProbeSets () =
    match Environment.GetEnvironmentVariable "REPRODUCE_RELEASED_PROBE" with
    | null
    | "" -> []
    | v ->
        [ for item in v.Split(';', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries) ->
              if not (item.StartsWith("probe.", StringComparison.Ordinal) && item.Contains '=') then
                  failwithf "REPRODUCE_RELEASED_PROBE: '%s' is not a probe.key=value setting" item
              item ]

let start (ctx: Cli.Ctx) : Session =
    { Ctx = ctx
      Folder = weightsDir ctx.Args
      Missing = ResizeArray()
      Commands = ResizeArray()
      ModelSets = releasedSets ()
      ProbeSets = releasedProbeSets () }

let private setArgs (sets: string list) = sets |> List.collect (fun o -> [ "--set"; o ])

// The model options as config keys (eval, probe); analyze takes them as they are.
let private modelSets (s: Session) (model: string) = releasedSetsFor s model |> List.map (fun o -> "model." + o)

/// The path of `c` in the weights folder (`<weights>/FILE` when there is no folder, for the plan); records it as
/// missing, for `purpose`, when the file is not there.
let locate (s: Session) (purpose: string) (c: Checkpoint) : string =
    match s.Folder with
    | Ok dir when File.Exists(Path.Combine(dir, c.File)) -> Path.Combine(dir, c.File)
    | folder ->
        s.Missing.Add((c, purpose))
        match folder with
        | Ok dir -> Path.Combine(dir, c.File)
        | Error _ -> "<weights>/" + c.File

/// Every file and dataset root is there: the profile can run.
let ready (s: Session) = s.Missing.Count = 0 && s.Ctx.Missing.Count = 0

/// The dataset root of `d` (recorded as missing when absent; `<NAME>` in the plan).
let dataRoot (s: Session) (d: DataRoots.Dataset) : string =
    Cli.needData s.Ctx [ d ] |> Map.tryFind d |> Option.flatten |> Option.defaultValue ("$" + DataRoots.envVar d)

let private plan (s: Session) (args: string list) = s.Commands.Add(Process.commandLine args)

/// The arguments of `reproduce eval` on a released ImageNet checkpoint (JSON last line: top1, top5, samples).
let evalArgs (s: Session) (model: string) (weights: string) (imagenet: string) =
    [ "eval"; "--model"; model; "--weights"; weights; "--data"; "imagenet"; "--root"; imagenet; "--split"; "val" ] @ setArgs (modelSets s model)

/// `reproduce eval` as a cached run of the paper script (its JSON line becomes final.json); only once `ready`.
let eval (s: Session) (name: string) (args: string list) : Cli.RunResult =
    Runner.runIn s.Ctx "eval-released" name None args [] (fun _ -> None) None (fun x dir ->
        Directory.CreateDirectory dir |> ignore
        let result = RunDirs.exec x name args |> Process.lastJson args
        Process.writeAtomic (Path.Combine(dir, "final.json")) (result.ToJsonString()))

/// The arguments of `reproduce probe seg|depth` evaluating the released head `head` (no training) on `backbone`'s
/// weights, with `overrides`, the session's model options and then its probe settings as `--set` (a later one wins).
let probeArgs (s: Session) (task: string) (model: string) (backbone: string) (head: string) (data: string) (root: string) (overrides: string list) =
    [ "probe"; task; "--model"; model; "--weights"; backbone; "--head-weights"; head; "--data"; data; "--root"; root ]
    @ setArgs (overrides @ modelSets s model @ s.ProbeSets)

/// `reproduce probe` on a released head as a cached run of the paper script (final.json is the probe's own); only once
/// `ready`.
let probe (s: Session) (name: string) (args: string list) : Cli.RunResult =
    Runner.runIn s.Ctx "probe-released" name None args [] (fun _ -> None) None (fun x dir ->
        RunDirs.exec x name (args @ [ "--out"; RunDirs.repoPath dir ]) |> ignore)

/// The `reproduce analyze` arguments of a released backbone (per-block [CLS]/patch cosines and token-norm statistics).
let analyzeArgs (s: Session) (name: string) (model: string) (weights: string) (images: int) : Cli.AnalyzeArgs =
    { Name = name; Model = model; Weights = Some weights; Overrides = releasedSetsFor s model; Images = images; Root = None; OutlierSigmas = None }

/// Records `args` as a command of the plan and, once `ready`, runs it with `run`. Call `locate` (and `dataRoot`) for
/// every file first, so nothing runs while a later file is missing.
let step (s: Session) (args: string list) (run: unit -> 'T) : 'T option =
    plan s args
    if ready s then Some(run ()) else None

/// The analyze command line, for the plan.
let analyzeCommand (a: Cli.AnalyzeArgs) =
    [ "analyze"; "--model"; a.Model ]
    @ (a.Weights |> Option.map (fun w -> [ "--weights"; w ]) |> Option.defaultValue [])
    @ setArgs a.Overrides
    @ [ "--images"; string a.Images ]

/// `reproduce analyze` on each of `checkpoints` (the first `images` analysis images). Every file is located before
/// any analysis runs, so a missing one stops the profile before the first.
let analyses (s: Session) (purpose: string) (checkpoints: Checkpoint list) (images: int) : (Checkpoint * Cli.RunResult option) list =
    let requests = [ for c in checkpoints -> c, analyzeArgs s ("released-" + c.Model) c.Model (locate s purpose c) images ]
    [ for c, a in requests -> c, step s (analyzeCommand a) (fun () -> Cli.analyze s.Ctx a) ]

/// The `reproduce probe seg|depth --head-weights` command of each of `heads` (no training), with its files and dataset
/// root located (recorded as missing when absent). Call before any step runs; `headEvals` then runs them.
let headRequests (s: Session) (purpose: string) (heads: Head list) : (Head * string list) list =
    [ for h in heads ->
          let backbone = locate s purpose h.Backbone
          let head = if h.Backbone = h.Checkpoint then backbone else locate s purpose h.Checkpoint
          h, probeArgs s h.Task h.Backbone.Model backbone head (DataRoots.key h.Data) (dataRoot s h.Data) h.Overrides ]

/// Runs the head evaluations of `headRequests` (once `ready`; otherwise they join the plan).
let headEvals (s: Session) (requests: (Head * string list) list) : (Head * Cli.RunResult option) list =
    [ for h, args in requests -> h, step s args (fun () -> probe s (headRunName h) args) ]

/// Ends a released-profile script. While files or roots are missing: prints the commands it would run, the missing
/// files with their URLs and what each is for, the missing roots, and exits 0, writing nothing. Otherwise writes the
/// results as every profile does and exits 0 (the script's other profiles do not run after it).
let finish (s: Session) (rows: unit -> Reproduce.Report.Measured.MeasuredRow list) (unavailableRows: Reproduce.Report.Measured.UnavailableRow list) =
    let ctx = s.Ctx
    if not (ready s) then
        printfn "\n%s, released profile: the published checkpoints evaluated through the CLI (plan only)." ctx.Paper
        match s.Folder with
        | Ok dir -> printfn "Weights folder: %s" dir
        | Error why -> printfn "Weights folder: %s" why
        printfn "Would run %d commands once the files below are there:" s.Commands.Count
        for c in s.Commands do
            printfn "  %s" c
        let missing = s.Missing |> Seq.distinctBy (fun (c, _) -> c.File) |> List.ofSeq
        printfn "Missing weights (%d; download each into the weights folder under its official name):" missing.Length
        for c, purpose in missing do
            printfn "  %s\n      %s\n      for: %s" c.File c.Url purpose
        if ctx.Missing.Count > 0 then
            printfn "Missing data:"
            for m in ctx.Missing do
                printfn "  %s" m
        for u in unavailableRows do
            printfn "Not in this profile: %s / %s: %s" u.Table u.Row u.Reason
        printfn "Nothing was run (exit 0)."
        exit 0
    else
        Results.finish ctx (rows ()) unavailableRows |> ignore
        exit 0
