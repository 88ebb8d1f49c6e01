/// `reproduce weights`: the plain model weights (timm keys) of a training run's checkpoint in a safetensors file of
/// their own, for `annotate --weights`, `probe --set model.weights=…` and `analyze --weights`. The logic is
/// Reproduce.Training.Checkpoints.WeightsExport; this command only parses arguments and prints.
module Reproduce.Cli.Weights

open System.Text.Json.Nodes
open Argu
open Reproduce.Training.Checkpoints

type WeightsArgs =
    | [<Mandatory>] From of runDir: string
    | Checkpoint of string
    | Ema
    | [<Mandatory>] Out of file: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | From _ -> "the training run directory whose checkpoint is read."
            | Checkpoint _ -> "best | last (default best; best falls back to last when no checkpoint was ranked)."
            | Ema -> "export the EMA weights instead of the model's."
            | Out _ -> "safetensors file to write (atomically)."

/// Runs the command; the last stdout line is {"file": …, "tensors": N}. Bad input prints `error: …` and returns 1.
let run (a: ParseResults<WeightsArgs>) =
    Errors.guarded (fun () ->
        let which =
            match a.GetResult(Checkpoint, defaultValue = "best") with
            | "best" -> WeightsCheckpoint.Best
            | "last" -> WeightsCheckpoint.Last
            | other -> raise (System.ArgumentException(sprintf "--checkpoint must be best or last, not '%s'" other))
        let r = WeightsExport.Export(a.GetResult From, which, a.Contains Ema, a.GetResult Out)
        eprintfn "weights: %d tensors of %s written to %s" r.Tensors r.Checkpoint r.File
        let o = JsonObject()
        o["file"] <- JsonValue.Create r.File
        o["tensors"] <- JsonValue.Create r.Tensors
        printfn "%s" (o.ToJsonString())
        0)
