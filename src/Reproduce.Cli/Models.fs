/// `reproduce models`: the model registry (Reproduce.Vision.Models.ModelRegistry) — every model of the three
/// papers with its parameter count, analytic forward GFLOPs (1 multiply-accumulate = 1 FLOP, as the papers'
/// tables) and default resolution; `--json` prints only the same as a JSON array, on one line.
module Reproduce.Cli.Models

open System
open Reproduce.Vision.Models

/// What to list and how.
type Options =
    { Json: bool
      /// Registry names to list; empty lists every model.
      Names: string list
      /// Option overrides `key=value`, applied to every listed model.
      Sets: string list
      /// Also print each model's resolved options.
      ShowOptions: bool }

let private table (entries: ModelEntry list) showOptions =
    printfn "%-32s %12s %10s %6s  %s" "name" "params" "GFLOPs" "res" "source"
    for e in entries do
        let s = e.Summary()
        printfn "%-32s %11.2fM %10.2f %6d  %s" s.Name (float s.Params / 1e6) s.Gflops s.Resolution e.Source
        if showOptions then
            for kv in ModelOptions.Values e.Config do
                printfn "    %s=%s" kv.Key kv.Value

/// Prints the listing; returns the exit code (2 for an unknown model or a bad override, with the reason).
let run (o: Options) =
    Errors.guardedWith Errors.UsageExitCode (fun () ->
        let overrides = o.Sets |> List.map ModelOptions.ParseAssignment
        let entries =
            (if o.Names.IsEmpty then List.ofSeq ModelRegistry.All else o.Names |> List.map ModelRegistry.Get)
            |> List.map (fun e -> if overrides.IsEmpty then e else e.With overrides)
        if o.Json then
            // One line, and nothing else on stdout: callers parse the output (the last line) as JSON.
            let json = ModelRegistry.SummariesJson(entries |> Seq.map (fun e -> e.Summary()))
            match Text.Json.Nodes.JsonNode.Parse json with
            | null -> printfn "[]"
            | node -> printfn "%s" (node.ToJsonString())
        else
            table entries o.ShowOptions
        0)
