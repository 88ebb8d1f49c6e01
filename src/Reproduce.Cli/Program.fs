/// The `reproduce` command: one entry point for every task; each command's module parses its own arguments, and
/// user errors come out through Errors (`error: <message>`, exit code 1, 2 or 3).
module Reproduce.Cli.Program

open Argu

type ModelsArgs =
    | Json
    | Name of string
    | [<CustomCommandLine("--set")>] Override of string
    | Show_Options

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Json -> "print only a JSON array of {name, params, gflops, resolution}, on one line."
            | Name _ -> "list only this registered model (repeatable)."
            | Override _ -> "override an option, key=value (e.g. drop_path_rate=0.1; repeatable)."
            | Show_Options -> "print every model's resolved options."

type Command =
    | [<CliPrefix(CliPrefix.None)>] Info of ParseResults<Info.InfoArgs>
    | [<CliPrefix(CliPrefix.None)>] Models of ParseResults<ModelsArgs>
    | [<CliPrefix(CliPrefix.None)>] Data of ParseResults<Data.DataArgs>
    | [<CliPrefix(CliPrefix.None)>] Score of ParseResults<Score.ScoreArgs>
    | [<CliPrefix(CliPrefix.None)>] Infer of ParseResults<Infer.InferArgs>
    | [<CliPrefix(CliPrefix.None)>] Annotate of ParseResults<Annotate.AnnotateArgs>
    | [<CliPrefix(CliPrefix.None)>] Train of ParseResults<Train.TrainArgs>
    | [<CliPrefix(CliPrefix.None)>] Eval of ParseResults<Train.EvalArgs>
    | [<CliPrefix(CliPrefix.None)>] Probe of ParseResults<Probe.ProbeCommand>
    | [<CliPrefix(CliPrefix.None)>] Analyze of ParseResults<Probe.AnalyzeArgs>
    | [<CliPrefix(CliPrefix.None)>] Bench of ParseResults<Bench.BenchArgs>
    | [<CliPrefix(CliPrefix.None)>] Weights of ParseResults<Weights.WeightsArgs>

    interface IArgParserTemplate with
        member c.Usage =
            match c with
            | Info _ -> "print libtorch, thread, CPU and CUDA facts (--json: one JSON object)."
            | Models _ -> "list the registered models with parameters, GFLOPs and resolution."
            | Data _ -> "dataset trees: `data check <dataset> --root DIR`, `data scenes`."
            | Score _ -> "score saved predictions: `score seg|depth --pred DIR --gt DIR ...` (last line: JSON)."
            | Infer _ -> "run a model on `--tensor IN.safetensors` (writes logits) or `--images DIR` (writes a top-5 CSV)."
            | Annotate _ -> "write a teacher's dense top-k score maps over a dataset to a token-label store."
            | Train _ -> "train a classifier from a config (--config, --set, --out, --resume)."
            | Eval _ -> "top-1/top-5 of a training run's checkpoint (--from RUN_DIR) or of any weights file (--model NAME --weights FILE)."
            | Probe _ ->
                "linear probes on a frozen ViT: dense `probe seg|depth`, DINOv2 linear classification `probe cls`: `probe seg|depth|cls --model NAME [--weights FILE | --from RUN] --data DATASET --out DIR`."
            | Analyze _ -> "per-block [CLS]/patch cosine similarity and token-norm statistics → JSON."
            | Bench _ -> "median step time and img/s of a model and its variants (--variant \"sta={},anf={}\"), side by side (last line: JSON)."
            | Weights _ ->
                "the plain model weights of a training run's checkpoint: `weights --from RUN_DIR --checkpoint best|last [--ema] --out FILE.safetensors` (last line: JSON)."

[<EntryPoint>]
let main argv =
    let parser = ArgumentParser.Create<Command>(programName = "reproduce")
    try
        if argv.Length > 0 && argv[0] = "launch" then
            Launch.run (List.ofArray argv[1..])
        else
            let results = parser.ParseCommandLine(argv, raiseOnUsage = true)
            match results.GetAllResults() with
            | [ Info a ] -> Info.run a
            | [ Models a ] ->
                Models.run { Json = a.Contains Json; Names = a.GetResults Name; Sets = a.GetResults Override; ShowOptions = a.Contains Show_Options }
            | [ Data a ] -> Data.run a
            | [ Score a ] -> Score.run a
            | [ Infer a ] -> Infer.run a
            | [ Annotate a ] -> Annotate.run a
            | [ Train a ] -> Train.runTrain a
            | [ Eval a ] -> Train.runEval a
            | [ Probe a ] -> Probe.run a
            | [ Analyze a ] -> Probe.analyze a
            | [ Bench a ] -> Bench.run a
            | [ Weights a ] -> Weights.run a
            | _ ->
                eprintfn "%s" (parser.PrintUsage())
                2
    with
    | :? ArguParseException as e ->
        eprintfn "%s" e.Message
        (if e.ErrorCode = ErrorCode.HelpText then 0 else Errors.UsageExitCode)
    | e when Errors.isUserError e -> Errors.fail Errors.FailedExitCode e.Message
