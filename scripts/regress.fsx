// Accuracy regression check: re-runs every paper script at the smoke profile into a temporary results root (never
// the committed results/), then compares each measured row's mean with results/baselines/smoke.json, where every
// (paper, table, row, metric) has an expected value and a tolerance. Any value outside its band, or a baseline row
// that is no longer measured, fails the check: exit 1 and a table of what moved.
//
//   dotnet fsi scripts/regress.fsx [--baseline FILE] [--results DIR] [--measured DIR] [--papers a,b] [--update]
//                                  [--threads N] [--jobs N]
//
//   --measured DIR  compare the measured.json files already under DIR/smoke/<paper>/ (no runs)
//   --update        write the baseline rows of the papers run now (expected = the measured mean, tolerance by
//                   `toleranceFor`; "(measured)" timing rows are left out); rows of other papers stay as they are
//
// Exit codes: 0 all rows in band; 1 a row moved or disappeared; 2 bad arguments or an unreadable baseline.
#load "lib/Lib.fsx"

open System
open System.Diagnostics
open System.IO
open System.Text.Json
open System.Text.Json.Nodes
open Reproduce.Report.Measured

/// One expected number.
type Expected = { Paper: string; Table: string; Row: string; Metric: string; Value: float; Tolerance: float }

/// The outcome of one baseline row.
type Check =
    {
        Expected: Expected
        /// The measured mean, or None when the row was not measured.
        Got: float option
    }

    member c.Passed =
        match c.Got with
        | Some v -> Double.IsFinite v && abs (v - c.Expected.Value) <= c.Expected.Tolerance
        | None -> false

/// The profile re-run and checked (--profile; its baseline is results/baselines/<profile>.json). Only smoke has a
/// committed baseline: it is what CI runs.
let mutable profile = "smoke"

let usageText =
    "usage: dotnet fsi scripts/regress.fsx [--profile smoke|quick] [--baseline FILE] [--results DIR] [--measured DIR] [--papers a,b] [--update] [--threads N] [--jobs N]"

let fail2 (msg: string) : 'a =
    eprintfn "regress: %s" msg
    exit 2

// ---- the baseline file ----------------------------------------------------------------------------------

/// Tolerance `--update` writes for a new baseline row: the regression band (lib/Bands.fsx).
let toleranceFor = Bands.toleranceFor

let readBaseline (path: string) : Expected list =
    let root =
        try
            JsonNode.Parse(File.ReadAllText path)
        with
        | :? FileNotFoundException -> fail2 (sprintf "baseline file '%s' does not exist (create it with --update)" path)
        | :? JsonException as e -> fail2 (sprintf "baseline file '%s' is not valid JSON: %s" path e.Message)
    let rows =
        match root with
        | :? JsonObject as o ->
            match o["rows"] with
            | :? JsonArray as a -> a
            | _ -> fail2 (sprintf "baseline file '%s' has no 'rows' array" path)
        | _ -> fail2 (sprintf "baseline file '%s' must hold a JSON object" path)
    [ for i in 0 .. rows.Count - 1 do
          let o =
              match rows[i] with
              | :? JsonObject as o -> o
              | _ -> fail2 (sprintf "%s: rows[%d] is not an object" path i)
          let text (k: string) =
              match o[k] with
              | :? JsonValue as v when v.GetValueKind() = JsonValueKind.String -> v.GetValue<string>()
              | _ -> fail2 (sprintf "%s: rows[%d]: missing or non-string '%s'" path i k)
          let number (k: string) =
              match o[k] with
              | :? JsonValue as v when v.GetValueKind() = JsonValueKind.Number -> v.GetValue<float>()
              | _ -> fail2 (sprintf "%s: rows[%d]: missing or non-numeric '%s'" path i k)
          let tolerance = number "tolerance"
          if tolerance < 0.0 then fail2 (sprintf "%s: rows[%d]: tolerance must be ≥ 0 (got %g)" path i tolerance)
          yield { Paper = text "paper"; Table = text "table"; Row = text "row"; Metric = text "metric"; Value = number "expected"; Tolerance = tolerance } ]

/// Timings ("Δ% step time (measured)") depend on the machine and its load, not on the code's numerics: never baselined.
let isTiming (metric: string) = metric.Contains "(measured)"

/// Writes the baseline: the rows of `measured`, plus the rows of `kept` (papers not re-measured this time).
let writeBaseline (path: string) (profile: string) (kept: Expected list) (measured: PaperResults list) =
    let rows = JsonArray()
    for e in kept do
        let o = JsonObject()
        o["paper"] <- JsonValue.Create e.Paper
        o["table"] <- JsonValue.Create e.Table
        o["row"] <- JsonValue.Create e.Row
        o["metric"] <- JsonValue.Create e.Metric
        o["expected"] <- JsonValue.Create e.Value
        o["tolerance"] <- JsonValue.Create e.Tolerance
        rows.Add o
    for p in measured do
        for r in p.Rows do
            if not r.Values.IsEmpty && not (isTiming r.Metric) then
                let mean, _ = Results.meanStd r.Values
                let o = JsonObject()
                o["paper"] <- JsonValue.Create p.Paper
                o["table"] <- JsonValue.Create r.Table
                o["row"] <- JsonValue.Create r.Row
                o["metric"] <- JsonValue.Create r.Metric
                o["expected"] <- JsonValue.Create(Math.Round(mean, 4))
                o["tolerance"] <- JsonValue.Create(toleranceFor r.Metric mean)
                rows.Add o
    let root = JsonObject()
    root["profile"] <- JsonValue.Create profile
    root["note"] <-
        JsonValue.Create(
            sprintf
                "Expected %s-profile metrics (mean over seeds) with tolerances; written by `dotnet fsi scripts/regress.fsx --profile %s --update`, checked by `dotnet fsi scripts/regress.fsx --profile %s`."
                profile
                profile
                profile
        )
    root["rows"] <- rows
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath path)) |> ignore
    let tmp = path + ".tmp"
    File.WriteAllText(
        tmp,
        root.ToJsonString(JsonSerializerOptions(WriteIndented = true, Encoder = Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping)) + "\n"
    )
    File.Move(tmp, path, true)
    rows.Count

// ---- comparing ------------------------------------------------------------------------------------------

/// Every baseline row against the measured results (mean over seeds).
let compare (baseline: Expected list) (measured: PaperResults list) : Check list =
    let means =
        measured
        |> List.collect (fun p ->
            p.Rows |> List.filter (fun r -> not r.Values.IsEmpty) |> List.map (fun r -> (p.Paper, r.Table, r.Row, r.Metric), fst (Results.meanStd r.Values)))
        |> Map.ofList
    baseline |> List.map (fun e -> { Expected = e; Got = means.TryFind(e.Paper, e.Table, e.Row, e.Metric) })

/// Measured rows the baseline does not know (reported, not failed: a new row is not a regression).
let newRows (baseline: Expected list) (measured: PaperResults list) =
    let known = baseline |> List.map (fun e -> e.Paper, e.Table, e.Row, e.Metric) |> Set.ofList
    [ for p in measured do
          for r in p.Rows do
              if not (known.Contains(p.Paper, r.Table, r.Row, r.Metric) || isTiming r.Metric) then
                  yield sprintf "%s / %s / %s / %s" p.Paper r.Table r.Row r.Metric ]

let printTable (checks: Check list) =
    let moved = checks |> List.filter (fun c -> not c.Passed)
    printfn "\n%d of %d baseline rows in band." (checks.Length - moved.Length) checks.Length
    if not moved.IsEmpty then
        printfn "\nMOVED (outside expected ± tolerance):"
        printfn "| paper | table | row | metric | expected | tolerance | got | moved by |"
        printfn "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |"
        for c in moved do
            let e = c.Expected
            let got, by =
                match c.Got with
                | Some v -> sprintf "%.4g" v, sprintf "%+.4g" (v - e.Value)
                | None -> "not measured", "—"
            printfn "| %s | %s | %s | %s | %.4g | %.4g | %s | %s |" e.Paper e.Table e.Row e.Metric e.Value e.Tolerance got by

// ---- running the papers -------------------------------------------------------------------------------------

let runPaper (resultsRoot: string) (extra: string list) (paper: string) =
    let script = Path.Combine(Args.repoRoot, "scripts", paper + ".fsx")
    if not (File.Exists script) then failwithf "the baseline names paper '%s', but %s does not exist" paper script
    let psi = ProcessStartInfo("dotnet", WorkingDirectory = Args.repoRoot, UseShellExecute = false)
    for a in [ "fsi"; script; "--profile"; profile; "--results"; resultsRoot ] @ extra do
        psi.ArgumentList.Add a
    printfn "regress: %s" (String.Join(" ", psi.ArgumentList))
    use p = Process.Start psi
    p.WaitForExit()
    if p.ExitCode <> 0 then failwithf "scripts/%s.fsx --profile %s exited with %d" paper profile p.ExitCode

let readMeasured (resultsRoot: string) (paper: string) =
    let path = Path.Combine(resultsRoot, profile, paper, "measured.json")
    if File.Exists path then Some(read path) else None

// ---- main ---------------------------------------------------------------------------------------------------

let rec parseArgs (m: Map<string, string>) (argv: string list) =
    match argv with
    | [] -> m
    | ("-h" | "--help") :: _ ->
        printfn "%s" usageText
        exit 0
    | "--update" :: rest -> parseArgs (m.Add("update", "")) rest
    | ("--profile" | "--baseline" | "--results" | "--measured" | "--papers" | "--threads" | "--jobs" as k) :: v :: rest ->
        parseArgs (m.Add(k.TrimStart '-', v)) rest
    | a :: _ -> fail2 (sprintf "unknown or incomplete argument '%s'\n%s" a usageText)

let main (argv: string list) =
    let opts = parseArgs Map.empty argv
    profile <- opts.TryFind "profile" |> Option.defaultValue "smoke"
    if profile <> "smoke" && profile <> "quick" then fail2 (sprintf "--profile must be smoke or quick (full runs need GPUs and data), not '%s'" profile)
    let baselinePath = opts.TryFind "baseline" |> Option.defaultValue (Path.Combine(Args.repoRoot, "results", "baselines", profile + ".json"))
    let update = opts.ContainsKey "update"
    let baseline = if update && not (File.Exists baselinePath) then [] else readBaseline baselinePath
    let papers =
        match opts.TryFind "papers" with
        | Some s -> s.Split(',', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries) |> List.ofArray
        | None when not baseline.IsEmpty -> baseline |> List.map (fun e -> e.Paper) |> List.distinct
        | None -> fail2 "no baseline rows: name the papers to run with --papers token-labeling,sta-anf,..."
    let committed = Path.GetFullPath(Path.Combine(Args.repoRoot, "results"))
    let resultsRoot =
        match opts.TryFind "measured", opts.TryFind "results" with
        | Some dir, _ -> Path.GetFullPath dir
        | None, Some dir -> Path.GetFullPath dir
        | None, None -> Path.Combine(Path.GetTempPath(), sprintf "reproduce-regress-%s" (Guid.NewGuid().ToString("N").Substring(0, 8)))
    if not (opts.ContainsKey "measured") && resultsRoot.TrimEnd('/') = committed then
        fail2 "--results must not be the committed results/ folder: the regression check writes its own runs"
    if not (opts.ContainsKey "measured") then
        let extra = [ "threads"; "jobs" ] |> List.collect (fun k -> opts.TryFind k |> Option.map (fun v -> [ "--" + k; v ]) |> Option.defaultValue [])
        let clock = Stopwatch.StartNew()
        for p in papers do
            runPaper resultsRoot extra p
        printfn "regress: %s runs of %s took %.0f s (results in %s)" profile (String.Join(", ", papers)) clock.Elapsed.TotalSeconds resultsRoot
    let measured = papers |> List.choose (readMeasured resultsRoot)
    if update then
        let remeasured = measured |> List.map (fun p -> p.Paper) |> Set.ofList
        let written = writeBaseline baselinePath profile (baseline |> List.filter (fun e -> not (remeasured.Contains e.Paper))) measured
        printfn "regress: wrote %s (%d rows; timing rows are never baselined)" baselinePath written
        0
    else
        let checks = compare (baseline |> List.filter (fun e -> List.contains e.Paper papers)) measured
        printTable checks
        let unknown = newRows baseline measured
        if not unknown.IsEmpty then
            printfn "\nNew rows, not in the baseline (not checked; add them with --update):"
            for u in unknown do
                printfn "  %s" u
        let passed = checks |> List.forall (fun c -> c.Passed)
        // A temporary root of our own is removed when everything passed, and kept for inspection when not.
        if not (opts.ContainsKey "measured" || opts.ContainsKey "results") then
            if passed then Directory.Delete(resultsRoot, true) else printfn "\nThe runs of this check are kept in %s" resultsRoot
        if passed then 0 else 1

exit (main (fsi.CommandLineArgs |> Array.toList |> List.tail))
