/// From runs to the report: mean ± std over seeds, measured rows (absolute values or Δ against a baseline paired
/// by seed), unavailable rows with their reason, and writing `<results>/<profile>/<paper>/measured.json`
/// (the contract in src/Reproduce.Report/Measured.fs), then the report's tables and plots.
module Results

#load "Args.fsx" "Cli.fsx" "../../src/Reproduce.Report/Report.fsx"

open System
open System.IO
open Reproduce.Report.Measured

/// Mean and sample standard deviation (n − 1; 0 for a single value). Empty input is an error.
let meanStd (values: float list) : float * float =
    match values with
    | [] -> invalidArg "values" "meanStd of no values"
    | [ v ] -> v, 0.0
    | vs ->
        let n = float vs.Length
        let mean = List.sum vs / n
        mean, sqrt (vs |> List.sumBy (fun v -> (v - mean) ** 2.0) |> fun s -> s / (n - 1.0))

/// "71.10 ± 0.35" (or "71.10" for one seed).
let formatMeanStd (values: float list) =
    match values with
    | [ v ] -> sprintf "%.2f" v
    | vs -> let m, s = meanStd vs in sprintf "%.2f ± %.2f" m s

/// A row of values measured on `runs` (one per seed) by `value`, e.g. `Cli.metric "top1"`.
let row (table: string) (rowName: string) (metric: string) (paperRef: string option) (value: Cli.RunResult -> float) (runs: Cli.RunResult list) : MeasuredRow =
    { Table = table
      Row = rowName
      Metric = metric
      Values = runs |> List.map value
      Seeds = runs |> List.map (fun r -> r.Seed)
      PaperRef = paperRef
      Runs = runs |> List.map (fun r -> r.RelDir)
      Note = None }

/// Δ = value(run) − value(baseline run of the same seed), one per seed: the comparable quantity where the paper's
/// absolute numbers come from another dataset. Both lists must hold the same seeds.
let deltaRow
    (table: string)
    (rowName: string)
    (metric: string)
    (paperRef: string option)
    (value: Cli.RunResult -> float)
    (baseline: Cli.RunResult list)
    (runs: Cli.RunResult list)
    : MeasuredRow =
    let bySeed = baseline |> List.map (fun r -> r.Seed, r) |> Map.ofList
    let pairs =
        runs
        |> List.map (fun r ->
            match bySeed.TryFind r.Seed with
            | Some b -> r, b
            | None ->
                failwithf "Δ row '%s': no baseline run for seed %d (baseline seeds: %A)" rowName r.Seed (List.map (fun (b: Cli.RunResult) -> b.Seed) baseline))
    { Table = table
      Row = rowName
      Metric = metric
      Values = pairs |> List.map (fun (r, b) -> value r - value b)
      Seeds = pairs |> List.map (fun (r, _) -> r.Seed)
      PaperRef = paperRef
      Runs = pairs |> List.collect (fun (r, b) -> [ r.RelDir; b.RelDir ]) |> List.distinct
      Note = Some(sprintf "Δ against '%s', paired by seed" (baseline |> List.tryHead |> Option.map (fun b -> b.Name) |> Option.defaultValue "?")) }

/// A row of one value that does not depend on a seed or a run (e.g. a parameter count from the model registry).
let constRow (table: string) (rowName: string) (metric: string) (paperRef: string option) (value: float) (note: string option) : MeasuredRow =
    { Table = table; Row = rowName; Metric = metric; Values = [ value ]; Seeds = [ 0 ]; PaperRef = paperRef; Runs = []; Note = note }

let withNote (note: string) (r: MeasuredRow) =
    { r with
        Note =
            Some(
                match r.Note with
                | Some n -> n + "; " + note
                | None -> note
            ) }

let unavailable (table: string) (rowName: string) (metric: string) (reason: string) : UnavailableRow =
    { Table = table; Row = rowName; Metric = metric; Reason = reason }

/// What the numbers were measured on: "CPU, 2 cores (<model name>); up to 2 runs at a time, …".
let hardware (args: Args.Args) =
    let cpu =
        try
            File.ReadLines "/proc/cpuinfo" |> Seq.tryFind (fun l -> l.StartsWith "model name") |> Option.map (fun l -> l.Substring(l.IndexOf ':' + 1).Trim())
        with _ ->
            None
    let threads =
        match args.Threads with
        | Some n -> sprintf "%d threads per run" n
        | None -> "cores/jobs threads per run"
    sprintf "CPU, %d cores (%s); up to %d runs at a time, %s" Environment.ProcessorCount (defaultArg cpu "unknown model") args.Jobs threads

/// Where measured.json of this paper and profile goes.
let measuredPath (ctx: Cli.Ctx) = Path.Combine(ctx.PaperDir, "measured.json")

let private printPlan (ctx: Cli.Ctx) =
    printfn "\n%s, %s profile: plan only (pass --execute to run it)." ctx.Paper (Args.Profile.name ctx.Args.Profile)
    printfn "Would run %d commands (from %s):" ctx.Planned.Count Args.repoRoot
    for c in ctx.Planned do
        printfn "  %s" c
    if ctx.Missing.Count = 0 then
        printfn "All datasets are configured."
    else
        printfn "Missing data:"
        for m in ctx.Missing do
            printfn "  %s" m

/// Ends a paper script. Plan mode: prints what would run and which data is missing, writes nothing (exit code 3
/// when data is missing, else 0). Otherwise: writes measured.json, then the report (table.md, table.csv, the
/// built-in plots and `extraPlots`, each a (file name, Vega-Lite spec) pair), and prints a summary; returns the
/// results written.
let finishWithPlots
    (ctx: Cli.Ctx)
    (rows: MeasuredRow list)
    (unavailableRows: UnavailableRow list)
    (extraPlots: (string * Text.Json.Nodes.JsonObject) list)
    : PaperResults option =
    Cli.guard
    <| fun () ->
        if ctx.Plan then
            printPlan ctx
            if ctx.Missing.Count > 0 then exit 3
            None
        else
            if ctx.Missing.Count > 0 then
                eprintfn "%s: missing data: %s" ctx.Paper (String.Join("; ", ctx.Missing))
                exit 3
            // Hardware and command say where the numbers were measured: when this session ran nothing, they stay those
            // of the session that did (so re-reading committed results on another machine changes no file).
            let earlier = if ctx.Executed.Count = 0 && File.Exists(measuredPath ctx) then Some(read (measuredPath ctx)) else None
            let results =
                { Paper = ctx.Paper
                  Profile = Args.Profile.name ctx.Args.Profile
                  Hardware = earlier |> Option.map (fun e -> e.Hardware) |> Option.defaultWith (fun () -> hardware ctx.Args)
                  Command = earlier |> Option.map (fun e -> e.Command) |> Option.defaultValue ctx.Args.Command
                  Rows = rows
                  Unavailable = unavailableRows }
            write (measuredPath ctx) results
            // Tables (md, csv), plots (vl.json + svg) and the HTML page beside measured.json.
            Reproduce.Report.Report.writePaper ctx.Args.ResultsRoot results extraPlots
            printfn "\n%s (%s): %d rows, %d unavailable → %s" ctx.Paper results.Profile rows.Length unavailableRows.Length (measuredPath ctx)
            for r in rows do
                printfn "  %-28s %-26s %-10s %s" r.Table r.Row r.Metric (formatMeanStd r.Values)
            for u in unavailableRows do
                printfn "  %-28s %-26s unavailable: %s" u.Table u.Row u.Reason
            let ran = ctx.Executed |> Seq.sumBy snd
            printfn "%d runs executed in %.1f s (the rest finished earlier)." ctx.Executed.Count ran
            Some results

/// A per-block line plot (Plots.perBlockLines) from the rows of `table` named "<series>, block N": one line per
/// series and metric in `metrics` (the metric joins the series name when there are several), at the mean over seeds.
let perBlockPlot (title: string) (yTitle: string) (table: string) (metrics: string list) (rows: MeasuredRow list) =
    let parse (row: string) =
        let i = row.LastIndexOf ", block "
        if i < 0 then None else Some(row.Substring(0, i), int (row.Substring(i + ", block ".Length)))
    let series =
        [ for m in metrics do
              let points =
                  rows
                  |> List.filter (fun r -> r.Table = table && r.Metric = m && not r.Values.IsEmpty && r.Values |> List.forall Double.IsFinite)
                  |> List.choose (fun r -> parse r.Row |> Option.map (fun (s, b) -> s, b, List.average r.Values))
              for s, group in points |> List.groupBy (fun (s, _, _) -> s) ->
                  (if metrics.Length > 1 then sprintf "%s — %s" s m else s), group |> List.map (fun (_, b, v) -> b, v) ]
    Reproduce.Report.Plots.perBlockLines title yTitle series

/// finishWithPlots without extra plots.
let finish (ctx: Cli.Ctx) (rows: MeasuredRow list) (unavailableRows: UnavailableRow list) : PaperResults option = finishWithPlots ctx rows unavailableRows []
