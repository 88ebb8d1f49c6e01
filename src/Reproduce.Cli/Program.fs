/// The `reproduce` command: one entry point for every task (later issues add commands).
module Reproduce.Cli.Program

open Argu

type Command =
    | [<CliPrefix(CliPrefix.None)>] Info
    interface IArgParserTemplate with
        member c.Usage =
            match c with
            | Info -> "print libtorch, thread and CUDA facts."

[<EntryPoint>]
let main argv =
    let parser = ArgumentParser.Create<Command>(programName = "reproduce")
    try
        let results = parser.ParseCommandLine(argv, raiseOnUsage = true)
        match results.GetAllResults() with
        | [ Info ] -> Info.run ()
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
