/// `reproduce models`: the model registry (Reproduce.Vision.Models.ModelRegistry) — every model of the three
/// papers with its parameter count, analytic forward GFLOPs (1 multiply-accumulate = 1 FLOP, as the papers'
/// tables) and default resolution; `--json` prints only the same as a JSON array, on one line.
module Reproduce.Cli.Models

open System
open Reproduce.Training.Config
open Reproduce.Vision.Models

/// What to list and how.
type Options =
    {
        Json: bool
        /// Registry names to list; empty lists every model.
        Names: string list
        /// Model keys `key=value` (`model.` optional: `drop_path_rate=0.1`, `anf.kernel_size=5`), applied to every listed model.
        Sets: string list
        /// Also print each model's resolved options.
        ShowOptions: bool
    }

let private table (entries: ModelEntry list) showOptions =
    printfn "%-32s %12s %10s %6s  %s" "name" "params" "GFLOPs" "res" "source"
    for e in entries do
        let s = e.Summary()
        printfn "%-32s %11.2fM %10.2f %6d  %s" s.Name (float s.Params / 1e6) s.Gflops s.Resolution e.Source
        if showOptions then
            for k in ConfigLoader.DescribeModel e.Config do
                printfn "    %s=%s" k.Key k.Default

/// Prints the listing; returns the exit code (2 for an unknown model or a bad override, with the reason).
let run (o: Options) =
    Errors.guardedWith Errors.UsageExitCode (fun () ->
        let entries =
            (if o.Names.IsEmpty then List.ofSeq ModelRegistry.All else o.Names |> List.map ModelRegistry.Get)
            |> List.map (fun e -> if o.Sets.IsEmpty then e else ModelSection.Resolve(e.Name, o.Sets))
        if o.Json then
            // One line, and nothing else on stdout: callers parse the output (the last line) as JSON.
            let json = ModelRegistry.SummariesJson(entries |> Seq.map (fun e -> e.Summary()))
            match Text.Json.Nodes.JsonNode.Parse json with
            | null -> printfn "[]"
            | node -> printfn "%s" (node.ToJsonString())
        else
            table entries o.ShowOptions
        0)
