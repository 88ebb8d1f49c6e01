/// `reproduce train` and `reproduce eval`: supervised classification training and top-1/top-5 evaluation,
/// driven by a RunConfig (defaults + --config files + --set overrides). Each writes DIR/config.json,
/// DIR/metrics.jsonl and, when finished, DIR/final.json; the last line printed is final.json's object.
module Reproduce.Cli.Train

open System
open System.IO
open System.Text.Json
open Argu
open Reproduce.Training.Config
open Reproduce.Training.Train

type TrainArgs =
    | [<AltCommandLine("-c")>] Config of file: string
    | [<CustomCommandLine("--set")>] Set of keyValue: string
    | Out of dir: string
    | Resume
    | Device of string
    | Threads of int
    | Seed of int64
    | Log_Every of int
    | Check

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Check ->
                "only check the configuration (keys, supported combinations, the model builds) without reading data; exit 0 when accepted, 1 when malformed, 3 when refused (a supported-combination refusal)."
            | Config _ -> "JSON config file (repeatable; later files override earlier ones)."
            | Set _ -> "override one config key, key=value (repeatable), e.g. --set optim.lr=1e-3."
            | Out _ -> "run directory (default runs/<name>-<config hash>)."
            | Resume -> "continue the unfinished run in --out from its last checkpoint."
            | Device _ -> "cpu | cuda | cuda:N (same as --set device=...)."
            | Threads _ -> "CPU threads (same as --set threads=...)."
            | Seed _ -> "seed of every generator (same as --set seed=...)."
            | Log_Every _ -> "log the training loss every N optimizer updates (default 10)."

type EvalArgs =
    | [<AltCommandLine("-c")>] Config of file: string
    | [<CustomCommandLine("--set")>] Set of keyValue: string
    | From of runDir: string
    | Model of name: string
    | Weights of file: string
    | Weights_Entry of entry: string
    | Data of dataset: string
    | Root of dir: string
    | Split of split: string
    | Out of dir: string
    | Checkpoint of string
    | Ema
    | Device of string
    | Threads of int
    | Seed of int64

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Config _ -> "JSON config file (repeatable) applied on top of the training run's config.json."
            | Set _ -> "override one config key, key=value (repeatable), e.g. --set data.eval_limit=1000."
            | From _ -> "the training run directory whose checkpoint is evaluated (or --model with --weights)."
            | Model _ -> "registered model evaluated with --weights (same as --set model.name=...)."
            | Weights _ -> "weights file: .safetensors, or a torch.save .pth / .pth.tar / .pt / .bin (docs/released-weights.md)."
            | Weights_Entry _ -> "checkpoint entry holding the state dict (model, model_ema, state_dict, state_dict_ema, teacher, student)."
            | Data _ -> "dataset with --weights (same as --set data.dataset=...), e.g. imagenet."
            | Root _ -> "dataset folder (same as --set data.root=...)."
            | Split _ -> "evaluation split (same as --set data.eval_split=...; default val for imagenet)."
            | Out _ -> "output directory (default <from>/eval-<checkpoint>; with --weights, none unless given)."
            | Checkpoint _ -> "best | last (default best)."
            | Ema -> "evaluate the EMA weights."
            | Device _ -> "cpu | cuda | cuda:N."
            | Threads _ -> "CPU threads."
            | Seed _ -> "seed."

/// The command-line flags that are config keys, as overrides applied after every --set.
let private flagOverrides (device: string option) (threads: int option) (seed: int64 option) =
    [ yield! device |> Option.map (sprintf "device=%s") |> Option.toList
      yield! threads |> Option.map (sprintf "threads=%d") |> Option.toList
      yield! seed |> Option.map (sprintf "seed=%d") |> Option.toList ]

let private printFinal (final: Text.Json.Nodes.JsonObject) = printfn "%s" (final.ToJsonString(JsonSerializerOptions(WriteIndented = false)))

let private formatEta (t: TimeSpan) =
    if t.TotalHours >= 1.0 then sprintf "%d:%02d:%02d" (int t.TotalHours) t.Minutes t.Seconds else sprintf "%02d:%02d" t.Minutes t.Seconds

/// The progress text of one report: step, loss, lr, img/s, ETA.
let private progressText (p: TrainProgressInfo) =
    sprintf
        "step %d/%d  epoch %d  loss %.4f  lr %s  %.1f img/s  ETA %s"
        p.Step
        p.TotalSteps
        p.Epoch
        p.Loss
        (p.Lr.ToString("0.00e+00", Globalization.CultureInfo.InvariantCulture))
        p.ImagesPerSecond
        (formatEta p.Eta)

/// Trains with a progress bar on a terminal, or plain lines (one per report) when the output is redirected.
let private trainWithProgress (config: RunConfig) (out: string) (resume: bool) (logEvery: int) =
    Progress.run (fun _ report message ->
        let onProgress (p: TrainProgressInfo) = report p.Step p.TotalSteps (progressText p)
        Trainer.Run(
            config,
            out,
            TrainOptions(Resume = resume, LogEvery = logEvery, OnProgress = Action<TrainProgressInfo>(onProgress), OnMessage = Action<string>(message))
        ))

let runTrain (a: ParseResults<TrainArgs>) =
    Errors.guarded (fun () ->
        let sets =
            a.GetResults TrainArgs.Set @ flagOverrides (a.TryGetResult TrainArgs.Device) (a.TryGetResult TrainArgs.Threads) (a.TryGetResult TrainArgs.Seed)
        // A malformed configuration (unknown key or model, a value that does not parse) is exit 1 through `guarded`;
        // only a well-formed combination the trainer does not support is a refusal (exit 3) that scripts record.
        let config = RunConfig.Load(a.GetResults TrainArgs.Config, sets)
        config.Validate ""
        let refusal =
            try
                Trainer.CheckSupported config
                Ok config
            with :? ConfigException as e ->
                Error e.Message
        match refusal with
        | Ok _ -> Trainer.CheckModel config
        | Error _ -> ()
        match refusal with
        | Error message -> Errors.fail Errors.RefusedExitCode message
        | Ok config when a.Contains TrainArgs.Check ->
            printfn "train --check: accepted (%s on %s, config hash %s)" config.Model.Name config.Data.Dataset (config.Hash().[..11])
            0
        | Ok config ->
            let out = a.GetResult(TrainArgs.Out, defaultValue = Path.Combine("runs", config.RunId()))
            printfn "train: %s on %s, run directory %s (config hash %s)" config.Model.Name config.Data.Dataset out (config.Hash().[..11])
            let result = trainWithProgress config out (a.Contains TrainArgs.Resume) (a.GetResult(TrainArgs.Log_Every, defaultValue = 10))
            match result.Final with
            | null -> Errors.fail Errors.FailedExitCode "the run stopped before finishing"
            | final ->
                printFinal final
                0)

let private number (final: Text.Json.Nodes.JsonObject) (key: string) =
    match final[key] with
    | null -> nan
    | v -> Double.Parse(v.ToJsonString(), Globalization.CultureInfo.InvariantCulture)

/// `eval --model NAME --weights FILE`: any weights file on the configured split, with the model's eval transform.
let private runEvalWeights (a: ParseResults<EvalArgs>) =
    let model =
        match a.TryGetResult EvalArgs.Model with
        | Some m -> m
        | None -> raise (ArgumentException "--weights needs --model NAME (the registered model the weights are for)")
    let keyed =
        [ yield sprintf "model.name=%s" model
          yield! a.TryGetResult EvalArgs.Data |> Option.map (sprintf "data.dataset=%s") |> Option.toList
          yield! a.TryGetResult EvalArgs.Root |> Option.map (sprintf "data.root=%s") |> Option.toList
          yield! a.TryGetResult EvalArgs.Split |> Option.map (sprintf "data.eval_split=%s") |> Option.toList ]
    let sets =
        keyed @ a.GetResults EvalArgs.Set @ flagOverrides (a.TryGetResult EvalArgs.Device) (a.TryGetResult EvalArgs.Threads) (a.TryGetResult EvalArgs.Seed)
    let config = RunConfig.Load(a.GetResults EvalArgs.Config, sets)
    let weights = a.GetResult EvalArgs.Weights
    let final =
        Progress.run (fun _ report message ->
            let progress (d: int) (n: int) = report (int64 d) (int64 n) (sprintf "eval %d/%d images" d n)
            WeightsEvalRun.Run(
                config,
                weights,
                Option.toObj (a.TryGetResult EvalArgs.Weights_Entry),
                Option.toObj (a.TryGetResult EvalArgs.Out),
                Action<int, int>(progress),
                Action<string>(message)
            ))
    printfn
        "eval: %s on %s %s: top-1 %.2f%%, top-5 %.2f%% on %.0f images"
        model
        config.Data.Dataset
        (ClassificationData.DefaultEvalSplit config.Data)
        (number final "top1")
        (number final "top5")
        (number final "samples")
    printFinal final
    0

let runEval (a: ParseResults<EvalArgs>) =
    Errors.guarded (fun () ->
        if a.Contains EvalArgs.Weights then
            if a.Contains EvalArgs.From then raise (ArgumentException "eval: give either --from RUN_DIR or --model with --weights, not both")
            runEvalWeights a
        else
            let from =
                match a.TryGetResult EvalArgs.From with
                | Some f -> f
                | None -> raise (ArgumentException "eval: give --from RUN_DIR, or --model NAME --weights FILE")
            let baseConfig = Path.Combine(from, "config.json")
            if not (File.Exists baseConfig) then raise (FileNotFoundException(sprintf "'%s' is not a run directory: it has no config.json" from, baseConfig))
            let sets =
                a.GetResults EvalArgs.Set @ flagOverrides (a.TryGetResult EvalArgs.Device) (a.TryGetResult EvalArgs.Threads) (a.TryGetResult EvalArgs.Seed)
            let config = RunConfig.Load(baseConfig :: a.GetResults EvalArgs.Config, sets)
            let choice =
                match a.GetResult(EvalArgs.Checkpoint, defaultValue = "best") with
                | "best" -> CheckpointChoice.Best
                | "last" -> CheckpointChoice.Last
                | other -> raise (ArgumentException(sprintf "--checkpoint must be best or last, not '%s'" other))
            let choiceName = (string choice).ToLowerInvariant()
            let out = a.GetResult(EvalArgs.Out, defaultValue = Path.Combine(from, "eval-" + choiceName))
            let final = EvalRun.Run(config, from, out, choice, a.Contains EvalArgs.Ema)
            printfn
                "eval: top-1 %.2f%%, top-5 %.2f%% on %.0f images; written to %s"
                (number final "top1")
                (number final "top5")
                (number final "eval_samples")
                out
            printFinal final
            0)
