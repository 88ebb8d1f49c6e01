/// Live progress for the long-running commands (train, probe): a Spectre.Console bar on an interactive terminal, plain
/// lines when the output is redirected or the terminal cannot redraw.
module Reproduce.Cli.Progress

open System
open Spectre.Console

/// Runs `work plain report message`: `report step total text` moves the bar (plain: prints `text`), `message` prints a
/// line above it; `plain` tells `work` that no bar is shown.
let run (work: bool -> (int64 -> int64 -> string -> unit) -> (string -> unit) -> 'T) : 'T =
    if Console.IsOutputRedirected || not AnsiConsole.Profile.Capabilities.Interactive then
        work true (fun _ _ text -> printfn "%s" text) (printfn "%s")
    else
        AnsiConsole
            .Progress()
            .Columns([| TaskDescriptionColumn() :> ProgressColumn; ProgressBarColumn(); PercentageColumn(); SpinnerColumn() |])
            .Start(fun ctx ->
                let task = ctx.AddTask("starting", maxValue = 1.0)
                let report (step: int64) (total: int64) (text: string) =
                    task.MaxValue <- float (max 1L total)
                    task.Value <- float step
                    task.Description <- Markup.Escape text
                work false report (fun m -> AnsiConsole.WriteLine m))
