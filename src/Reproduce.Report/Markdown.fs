/// The Markdown of one comparison (`table.md`, and each section of results/README.md), in the order a reader wants:
/// the claims with their verdicts, the plot of exactly those rows, the supporting rows grouped by table, and last
/// the rows the profile cannot produce.
module Reproduce.Report.Markdown

open System
open Reproduce.Report.Compare
open Reproduce.Report.Summary

/// The file name stem of the plot of the claims (Report.fs writes it when there is a claim).
[<Literal>]
let ClaimsPlot = "paper-vs-reproduced"

/// Escapes a Markdown table cell: pipes would end the cell, newlines the row.
let mdCell (s: string) = s.Replace("\\", "\\\\").Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ")

let private mdRow (cells: string list) = "| " + String.Join(" | ", cells |> List.map mdCell) + " |"

let private mdTable (headers: string list) (align: string list) (rows: string list list) =
    [ yield mdRow headers; yield "| " + String.Join(" | ", align) + " |"; yield! rows |> List.map mdRow ]

/// The heading lines every table carries: profile, seeds, hardware and the command that made it.
let header (c: Comparison) =
    [ sprintf "- profile: `%s`" c.Results.Profile
      sprintf "- seeds: %s" (if c.Seeds.IsEmpty then "none" else String.Join(", ", c.Seeds))
      sprintf "- hardware: %s" c.Results.Hardware
      sprintf "- command: `%s`" c.Results.Command ]

/// The heading of the claims section.
let claimsTitle (claims: Claims) = if claims.Compared then "Claims compared with the paper" else "Differences measured (no paper value)"

/// The claims table's header and rows (also the first table of the HTML page).
let claimsHeaders = [ "table"; "row"; "metric"; "paper"; "reproduced (mean ± std)"; "n"; "Δ vs paper"; "verdict"; "note" ]

let claimsCells (r: ComparisonRow) =
    [ r.Measured.Table
      r.Measured.Row
      r.Measured.Metric
      paperText r
      reproducedText r
      string r.Measured.Values.Length
      deltaText r
      Summary.verdict r
      defaultArg r.Measured.Note "" ]

/// The supporting tables' header and rows (one table per measured table; its name is the heading).
let supportingHeaders = [ "row"; "metric"; "reproduced (mean ± std)"; "n"; "paper"; "not compared because"; "note" ]

let supportingCells (r: ComparisonRow) =
    [ r.Measured.Row
      r.Measured.Metric
      reproducedText r
      string r.Measured.Values.Length
      paperText r
      Summary.whyNotCompared r
      defaultArg r.Measured.Note "" ]

/// The body under a title: `level` is the heading level of its sections ("##" in table.md, "###" in the index);
/// `plotPath` is where the claims plot lies relative to the Markdown file, when it was written.
let body (level: int) (plotPath: string option) (c: Comparison) =
    let h n (text: string) = String('#', level + n) + " " + text
    let claims = Summary.claims c
    [ yield h 0 (claimsTitle claims)
      yield ""
      if claims.Rows.IsEmpty then
          yield "This table has no claim and no measured difference."
      else
          yield! mdTable claimsHeaders [ "---"; "---"; "---"; "---:"; "---:"; "---:"; "---:"; "---"; "---" ] (claims.Rows |> List.map claimsCells)
      yield ""
      yield Summary.explanation c.Results.Profile claims
      yield ""
      match plotPath with
      | Some path when not claims.Rows.IsEmpty ->
          yield sprintf "![%s: the rows above, mean ± std](%s)" (claimsTitle claims) (path.Replace(" ", "%20"))
          yield ""
      | _ -> ()
      match Summary.supporting c claims with
      | [] -> ()
      | groups ->
          yield h 0 "Supporting rows"
          yield ""
          for table, rows in groups do
              yield h 1 table
              yield ""
              yield! mdTable supportingHeaders [ "---"; "---"; "---:"; "---:"; "---:"; "---"; "---" ] (rows |> List.map supportingCells)
              yield ""
      yield h 0 "Rows this profile cannot produce"
      yield ""
      if c.Results.Unavailable.IsEmpty then
          yield "None listed by the script."
      else
          yield!
              mdTable
                  [ "table"; "row"; "metric"; "why" ]
                  [ "---"; "---"; "---"; "---" ]
                  [ for u in c.Results.Unavailable -> [ u.Table; u.Row; u.Metric; u.Reason ] ] ]

/// The whole `table.md`: title, header (profile, seeds, hardware, command), then `body`.
let page (plotPath: string option) (c: Comparison) =
    let lines =
        [ yield sprintf "# %s — reproduced vs paper (profile `%s`)" c.Title c.Results.Profile; yield ""; yield! header c; yield ""; yield! body 2 plotPath c ]
    String.Join("\n", lines) + "\n"
