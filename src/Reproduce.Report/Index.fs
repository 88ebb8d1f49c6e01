/// `results/README.md`: the index of every `results/<profile>/<paper>/` that has a measured.json, each with its
/// links (table.md, table.csv, index.html, plots) and its table.md body inlined (claims first: Markdown.fs) under a
/// heading that names the profile, seeds, hardware and the command that produced it.
module Reproduce.Report.Index

open System
open System.IO
open Reproduce.Report

/// Order of the known profiles in the index (others follow alphabetically).
let profileOrder = [ "quick"; "full"; "smoke" ]

/// One results folder that has a measured.json.
type Entry =
    {
        Profile: string
        Paper: string
        /// Folder relative to the results root, with forward slashes (for Markdown links).
        RelDir: string
        Measured: Measured.PaperResults
    }

/// Every `<profile>/<paper>/measured.json` under the results root (the `paper` folder holds references, not
/// results), in profile order and then by paper.
let entries (resultsRoot: string) : Entry list =
    if not (Directory.Exists resultsRoot) then
        []
    else
        [ for profileDir in Directory.GetDirectories resultsRoot do
              let profile = Io.fileName profileDir
              if profile <> "paper" then
                  for paperDir in Directory.GetDirectories profileDir do
                      let file = Path.Combine(paperDir, "measured.json")
                      if File.Exists file then
                          let paper = Io.fileName paperDir
                          yield { Profile = profile; Paper = paper; RelDir = profile + "/" + paper; Measured = Measured.read file } ]
        |> List.sortBy (fun e ->
            let rank = profileOrder |> List.tryFindIndex ((=) e.Profile) |> Option.defaultValue profileOrder.Length
            rank, e.Profile, e.Paper)

// Targets are slugs and file names we made; only spaces would break a Markdown link.
let private link (text: string) (target: string) = sprintf "[%s](%s)" text (target.Replace(" ", "%20"))

/// The README text. Paper reference files are read from `<resultsRoot>/paper`.
let markdown (resultsRoot: string) : string =
    let paperDir = Paper.folderFor resultsRoot
    let papers = if Directory.Exists paperDir then Paper.readAll paperDir else []
    let found = entries resultsRoot
    let lines =
        [ yield "# Results"
          yield ""
          yield "Paper-vs-reproduced tables and plots, written by `Reproduce.Report` from each script's `measured.json`."
          yield "Every table names the profile it was produced with: numbers of the `smoke` and `quick` profiles come"
          yield "from small models on the embedded data (Fashion-MNIST and scenes built from it) and are never the"
          yield "papers' numbers; only differences (Δ rows) and architecture properties are set against the papers there."
          yield "This file is generated (`Report.writeIndex`); edit the code, not the file."
          yield ""
          yield "Layout:"
          yield ""
          yield "- `paper/<paper>.json`: the published numbers, one row per number with its source; `not_found` lists what"
          yield "  the references do not give."
          yield "- `<profile>/<paper>/`: `measured.json` (what the script measured, per seed), `table.md`, `table.csv`,"
          yield "  plots (`<name>.vl.json` Vega-Lite spec + `<name>.svg`), `index.html` (self-contained, interactive plots)"
          yield "  and `runs/` (each run's config, metrics log and final metrics)."
          yield ""
          yield "## Paper reference numbers"
          yield ""
          yield "Published numbers, each with its source tag (see `docs/papers.md`):"
          yield ""
          for p in papers do
              let numbers = p.Rows |> List.filter (fun r -> r.Value.IsSome) |> List.length
              yield
                  sprintf
                      "- %s — %s: %d rows (%d with a number)"
                      (link (sprintf "paper/%s.json" p.Paper) (sprintf "paper/%s.json" p.Paper))
                      p.Title
                      p.Rows.Length
                      numbers
          yield ""
          if found.IsEmpty then yield "No reproduction table has been produced yet: run the paper scripts in `scripts/` (see `scripts/README.md`)."
          for e in found do
              let c = Compare.join (Path.Combine(resultsRoot, e.RelDir, "measured.json")) papers e.Measured
              let dir = Path.Combine(resultsRoot, e.Profile, e.Paper)
              let present name = File.Exists(Path.Combine(dir, name))
              let plots = if Directory.Exists dir then Directory.GetFiles(dir, "*.svg") |> Array.map Io.fileName |> Array.sort |> List.ofArray else []
              yield sprintf "## %s — profile `%s`" c.Title e.Profile
              yield ""
              yield! Markdown.header c
              yield ""
              let files =
                  [ for name in [ "table.md"; "table.csv"; "index.html" ] do
                        if present name then yield link name (e.RelDir + "/" + name) ]
              if not files.IsEmpty then yield "Files: " + String.Join(" · ", files)
              if not plots.IsEmpty then
                  yield ""
                  yield "Plots: " + String.Join(" · ", plots |> List.map (fun p -> link p (e.RelDir + "/" + p)))
              yield ""
              let claimsPlot = Markdown.ClaimsPlot + ".svg"
              yield! Markdown.body 3 (if present claimsPlot then Some(e.RelDir + "/" + claimsPlot) else None) c
              yield "" ]
    String.Join("\n", lines).TrimEnd() + "\n"

/// Writes `<resultsRoot>/README.md` atomically.
let write (resultsRoot: string) = Io.writeText (Path.Combine(resultsRoot, "README.md")) (markdown resultsRoot)
