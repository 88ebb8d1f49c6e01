/// `reproduce score seg|depth`: scores predictions saved as PNG files against a ground-truth tree.
/// The file-level logic is Reproduce.Training.Scoring.PredictionScorer; the last line printed is one JSON object.
module Reproduce.Cli.Score

open System.Text.Json
open Argu
open Reproduce.Training.Scoring

type SegArgs =
    | [<Mandatory>] Pred of dir: string
    | [<Mandatory>] Gt of dir: string
    | Reduce_Zero_Label
    | Num_Classes of count: int

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Pred _ -> "folder of predicted label PNGs (same relative names as the ground truth, dataset's own label ids)."
            | Gt _ -> "folder of ground-truth label PNGs."
            | Reduce_Zero_Label -> "mmseg's reduce_zero_label on GT and predictions (ADE20K: 0 and 255 → ignore, v → v − 1)."
            | Num_Classes _ -> "evaluated classes after the reduction (default 150 with --reduce-zero-label; required otherwise)."

type DepthArgs =
    | [<Mandatory>] Pred of dir: string
    | [<Mandatory>] Gt of dir: string
    | [<Mandatory>] Dataset of name: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Pred _ -> "folder of predicted 16-bit depth PNGs (same relative names as the ground truth, dataset's units)."
            | Gt _ -> "folder of ground-truth 16-bit depth PNGs (0 = invalid)."
            | Dataset _ -> "nyu (mm, range (1e-3, 10) m, Eigen crop) or kitti (/256, range (1e-3, 80) m, Garg crop)."

type ScoreArgs =
    | [<CliPrefix(CliPrefix.None)>] Seg of ParseResults<SegArgs>
    | [<CliPrefix(CliPrefix.None)>] Depth of ParseResults<DepthArgs>

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Seg _ -> "mIoU, aAcc, mAcc (percent, mmseg conventions) and per-class IoU of saved label maps."
            | Depth _ -> "abs_rel, sq_rel, rmse, rmse_log, log10, silog, d1–d3 (BTS conventions) of saved depth maps."

let private compact = JsonSerializerOptions(WriteIndented = false)

let private runSeg (a: ParseResults<SegArgs>) =
    let reduce = a.Contains Reduce_Zero_Label
    let classes =
        match a.TryGetResult Num_Classes, reduce with
        | Some n, _ -> n
        | None, true -> PredictionScorer.Ade20kClasses
        | None, false -> invalidArg "num-classes" "score seg: --num-classes is required without --reduce-zero-label"
    let r = PredictionScorer.ScoreSegmentation(a.GetResult SegArgs.Pred, a.GetResult SegArgs.Gt, classes, reduce)
    printfn "scored %d classes%s" classes (if reduce then " (reduce_zero_label)" else "")
    printfn "%s" (r.ToJson().ToJsonString compact)
    0

let private runDepth (a: ParseResults<DepthArgs>) =
    let dataset = DepthDatasets.Parse(a.GetResult Dataset)
    let r = PredictionScorer.ScoreDepth(a.GetResult DepthArgs.Pred, a.GetResult DepthArgs.Gt, dataset)
    printfn "scored %d images (%d without valid pixels skipped), dataset %s" r.Images r.SkippedImages (a.GetResult Dataset)
    printfn "%s" (r.ToJson().ToJsonString compact)
    0

/// Runs `score seg` or `score depth`; bad input prints `error: …` naming the file and returns 1.
let run (a: ParseResults<ScoreArgs>) =
    Errors.guarded (fun () ->
        match a.GetSubCommand() with
        | Seg s -> runSeg s
        | Depth d -> runDepth d)
