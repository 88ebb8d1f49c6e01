/// The entry points the paper scripts call: `writePaper` after measuring, `writeIndex` at the end.
module Reproduce.Report.Report

open System.IO
open System.Text.Json.Nodes
open Reproduce.Report

/// `<resultsRoot>/<profile>/<paper>`, after checking both are plain folder names.
let paperDir (resultsRoot: string) (measured: Measured.PaperResults) =
    Io.checkSegment "profile" measured.Profile
    Io.checkSegment "paper" measured.Paper
    Path.Combine(resultsRoot, measured.Profile, measured.Paper)

/// Names of the plots every paper gets; extra plots may not reuse them.
let builtInPlots = [ "mean-std"; Markdown.ClaimsPlot; "model-table" ]

/// The plots of one comparison: per-row mean ± std, paper vs reproduced for the claims (Summary.claims), parameter counts
/// and GFLOPs (each only when it has data), then the script's extra plots in the given order.
let plots (c: Compare.Comparison) (extraPlots: (string * JsonObject) list) : (string * JsonObject) list =
    let profile = c.Results.Profile
    for name, _ in extraPlots do
        Io.checkSegment "plot name" name
        if List.contains name builtInPlots then failwithf "plot name '%s' is reserved for a built-in plot" name
    extraPlots |> List.countBy fst |> List.tryFind (fun (_, k) -> k > 1) |> Option.iter (fun (name, _) -> failwithf "plot name '%s' is given twice" name)
    let builtIn =
        [ "mean-std", Plots.meanStdBars (sprintf "%s: reproduced, mean ± std over seeds (profile %s)" c.Results.Paper profile) c.Rows
          Markdown.ClaimsPlot,
          Plots.paperVsReproduced
              (sprintf "%s: %s, mean ± std over seeds (profile %s)" c.Results.Paper ((Markdown.claimsTitle (Summary.claims c)).ToLowerInvariant()) profile)
              (Summary.claims c).Rows
          "model-table",
          Plots.modelTable (sprintf "%s: parameters and FLOPs (and their overheads), paper vs reproduced (profile %s)" c.Results.Paper profile) c.Rows ]
        |> List.filter (fun (_, spec) -> Plots.dataCount spec > 0)
    builtIn @ extraPlots

/// Deletes plot files (`*.vl.json`, `*.svg`) of a paper folder that the current plots do not produce, so a plot a
/// script no longer makes does not linger in the folder, the index and the page.
let private removeStalePlots (dir: string) (names: string list) =
    let keep = Set.ofList names
    for pattern, suffix in [ "*.vl.json", ".vl.json"; "*.svg", ".svg" ] do
        for f in Directory.GetFiles(dir, pattern) do
            let name = Io.fileName f
            if not (keep.Contains(name.Substring(0, name.Length - suffix.Length))) then File.Delete f

/// Writes everything for one paper at one profile into `<resultsRoot>/<profile>/<paper>/`: measured.json (the
/// input, so the index can be rebuilt), table.md, table.csv, each plot as `<name>.vl.json` + `<name>.svg`, and a
/// self-contained index.html; plot files of earlier runs that these plots no longer include are removed. Paper
/// references come from `<resultsRoot>/paper/*.json`. Tables are written before the plots, so a missing Node.js install (reported with the command that fixes it) loses no table.
let writePaper (resultsRoot: string) (measured: Measured.PaperResults) (extraPlots: (string * JsonObject) list) : unit =
    let dir = paperDir resultsRoot measured
    let papers = Paper.readAll (Paper.folderFor resultsRoot)
    let measuredPath = Path.Combine(dir, "measured.json")
    let c = Compare.join measuredPath papers measured
    let specs = plots c extraPlots
    Measured.write measuredPath measured
    let claimsPlot = if specs |> List.exists (fst >> (=) Markdown.ClaimsPlot) then Some(Markdown.ClaimsPlot + ".svg") else None
    Io.writeText (Path.Combine(dir, "table.md")) (Markdown.page claimsPlot c)
    Io.writeText (Path.Combine(dir, "table.csv")) (Compare.csv c)
    for name, spec in specs do
        Io.writeText (Path.Combine(dir, name + ".vl.json")) (Plots.toJson spec)
    Svg.renderMany [ for name, _ in specs -> Path.Combine(dir, name + ".vl.json"), Path.Combine(dir, name + ".svg") ]
    removeStalePlots dir (List.map fst specs)
    let pagePlots: Html.PagePlot list =
        [ for name, spec in specs -> { Name = name; Spec = spec; Svg = Some(File.ReadAllText(Path.Combine(dir, name + ".svg"))) } ]
    Io.writeText (Path.Combine(dir, "index.html")) (Html.page c pagePlots (Html.vendorScripts (Svg.toolDir ())))

/// Writes `<resultsRoot>/README.md`: the index of every `<profile>/<paper>/` with a measured.json.
let writeIndex (resultsRoot: string) : unit = Index.write resultsRoot
