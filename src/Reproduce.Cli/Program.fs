/// The `reproduce` command: one entry point for every task (later issues add commands).
module Reproduce.Cli.Program

open Argu

type TrainSmokeArgs =
    | Steps of int
    | Batch of int
    | Lr of float
    | Seed of int
    | Eval_Samples of int
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Steps _ -> sprintf "optimizer steps (default %d)." TrainSmoke.defaults.Steps
            | Batch _ -> sprintf "batch size (default %d)." TrainSmoke.defaults.Batch
            | Lr _ -> sprintf "peak learning rate (default %g)." TrainSmoke.defaults.Lr
            | Seed _ -> "seed for init and sampling (default 0)."
            | Eval_Samples _ -> "test images to evaluate (default all 10,000)."

type ModelsArgs =
    | Json
    | Name of string
    | [<CustomCommandLine("--set")>] Override of string
    | Show_Options
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Json -> "print a JSON array of {name, params, gflops, resolution}."
            | Name _ -> "list only this registered model (repeatable)."
            | Override _ -> "override an option, key=value (e.g. drop_path_rate=0.1; repeatable)."
            | Show_Options -> "print every model's resolved options."

type Command =
    | [<CliPrefix(CliPrefix.None)>] Info
    | [<CliPrefix(CliPrefix.None)>] Train_Smoke of ParseResults<TrainSmokeArgs>
    | [<CliPrefix(CliPrefix.None)>] Models of ParseResults<ModelsArgs>
    | [<CliPrefix(CliPrefix.None)>] Data of ParseResults<Data.DataArgs>
    | [<CliPrefix(CliPrefix.None)>] Probe of ParseResults<Probe.ProbeCommand>
    | [<CliPrefix(CliPrefix.None)>] Analyze of ParseResults<Probe.AnalyzeArgs>
    interface IArgParserTemplate with
        member c.Usage =
            match c with
            | Info -> "print libtorch, thread and CUDA facts."
            | Train_Smoke _ -> "train a small ViT on Fashion-MNIST end to end and report test top-1."
            | Models _ -> "list the registered models with parameters, GFLOPs and resolution."
            | Data _ -> "dataset trees: `data check <dataset> --root DIR`, `data scenes`."
            | Probe _ -> "dense linear probes on a frozen ViT: `probe seg|depth --model NAME --data DATASET --out DIR`."
            | Analyze _ -> "per-block [CLS]/patch cosine similarity and token-norm statistics → JSON."

[<EntryPoint>]
let main argv =
    let parser = ArgumentParser.Create<Command>(programName = "reproduce")
    try
        let results = parser.ParseCommandLine(argv, raiseOnUsage = true)
        match results.GetAllResults() with
        | [ Info ] -> Info.run ()
        | [ Train_Smoke a ] ->
            let d = TrainSmoke.defaults
            TrainSmoke.run
                { d with
                    Steps = a.GetResult(Steps, d.Steps)
                    Batch = a.GetResult(Batch, d.Batch)
                    Lr = a.GetResult(Lr, d.Lr)
                    Seed = a.GetResult(Seed, d.Seed)
                    EvalSamples = a.GetResult(Eval_Samples, d.EvalSamples) }
        | [ Models a ] ->
            Models.run
                { Json = a.Contains Json
                  Names = a.GetResults Name
                  Sets = a.GetResults Override
                  ShowOptions = a.Contains Show_Options }
        | [ Data a ] -> Data.run a
        | [ Probe a ] -> Probe.run a
        | [ Analyze a ] -> Probe.analyze a
        | _ ->
            eprintfn "%s" (parser.PrintUsage())
            2
    with
    | :? ArguParseException as e ->
        eprintfn "%s" e.Message
        (if e.ErrorCode = ErrorCode.HelpText then 0 else 2)
    | :? Reproduce.Torch.TorchException as e ->
        eprintfn "error: %s" e.Message
        1
    | :? System.IO.FileNotFoundException as e ->
        eprintfn "error: %s" e.Message
        1
    | :? System.IO.InvalidDataException as e ->
        eprintfn "error: %s" e.Message
        1
