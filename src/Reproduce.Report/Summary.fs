/// What a page leads with: the claims compared with the paper, each with a verdict, then the rows that support them
/// grouped by their table. Every page (index.html, table.md, the sections of results/README.md) is laid out from this.
module Reproduce.Report.Summary

open Reproduce.Report.Paper
open Reproduce.Report.Compare

/// The rows a page opens with, and whether they are set against published numbers.
type Claims =
    {
        Rows: ComparisonRow list
        /// true: the rows compared with the paper; false: no row is, and these are the measured differences (the
        /// combined table measures interactions the papers do not report).
        Compared: bool
    }

let private isCompared (r: ComparisonRow) =
    match r.Comparability with
    | Comparable _ -> true
    | _ -> false

/// The compared rows of a table; when there is none, its differences (Δ and relative rows with values).
let claims (c: Comparison) : Claims =
    match c.Rows |> List.filter isCompared with
    | [] -> { Rows = c.Rows |> List.filter (fun r -> metricKind r.Measured.Metric <> Absolute && r.Mean.IsSome); Compared = false }
    | rows -> { Rows = rows; Compared = true }

/// Whether `value` lies within seed noise of `reference` (|value − reference| ≤ 2·std/√n, the band `direction` uses).
let private withinNoise (r: ComparisonRow) (gap: float) = r.Std |> Option.exists (fun s -> abs gap <= 2.0 * s / sqrt (float r.Measured.Values.Length))

/// Half a unit of the last digit the paper prints (8.53 → 0.005): closer than that, one value equals it as printed.
let private paperHalfUnit (p: PaperRow) =
    match p.Value with
    | Some v ->
        let text = Numbers.exact v
        let decimals =
            match text.IndexOf '.' with
            | -1 -> 0
            | k -> text.Length - k - 1
        0.5 * (10.0 ** float -decimals)
    | None -> 0.0

/// A compared value that is not a signed difference (an absolute number, an overhead of 0): where it lies against
/// the paper's number or range.
let private closeness (r: ComparisonRow) (p: PaperRow) (delta: float) =
    let side = if delta > 0.0 then "above" else "below"
    let target = if p.Value.IsNone && p.Range.IsSome then "the paper's range" else "paper"
    if p.Value.IsNone && p.Range.IsSome && delta = 0.0 then "in the paper's range"
    elif r.Std.IsSome then (if withinNoise r delta then "within seed noise of paper" else sprintf "%s %s" side target)
    elif abs delta <= paperHalfUnit p then "equal to paper as printed"
    else sprintf "%s %s" side target

/// A difference no paper reports, read against zero.
let private againstZero (r: ComparisonRow) (mean: float) =
    let side =
        if mean > 0.0 then "above 0"
        elif mean < 0.0 then "below 0"
        else "0"
    let reading =
        match r.Std with
        | Some _ when withinNoise r mean -> "within seed noise of 0"
        | Some _ -> side + " beyond seed noise"
        | None -> "1 seed: " + side
    "no paper value; " + reading

/// The verdict of a claim: for a compared difference the sign against the paper's (Compare.direction: same sign,
/// opposite sign, within seed noise); for another compared value where it lies against the paper's number; for a
/// difference without a paper value, where it lies against zero.
let verdict (r: ComparisonRow) =
    match direction r, r.Paper, r.Delta, r.Mean with
    | "", Some p, Some d, _ when isCompared r -> closeness r p d
    | "", _, _, Some mean when not (isCompared r) -> againstZero r mean
    | d, _, _, _ -> d

/// The rows that are not claims, grouped by their table in the order the tables first appear.
let supporting (c: Comparison) (claims: Claims) : (string * ComparisonRow list) list =
    let claimSet = System.Collections.Generic.HashSet<ComparisonRow>(claims.Rows, HashIdentity.Reference)
    c.Rows |> List.filter (claimSet.Contains >> not) |> List.groupBy _.Measured.Table

/// Why a supporting row is not compared, when it has a paper_ref (rows without one need no reason).
let whyNotCompared (r: ComparisonRow) =
    match r.Comparability with
    | NotComparable reason -> reason
    | NoPaperValue reason when r.Paper.IsSome -> reason
    | _ -> ""

/// The sentence under the claims table: what is compared and how the verdict is read.
let explanation (profile: string) (claims: Claims) =
    if claims.Compared then
        sprintf
            "Differences measured on the %s profile's data (method − baseline) are set against the paper's differences by sign; absolute values are compared only at the full profile or for properties of the architecture. \"Within seed noise\": |mean − reference| ≤ 2·std/√n (reference 0 for a sign). Numbers are rounded to two significant digits of their std; table.csv has them in full."
            profile
    else
        "No row of this table has a published number to compare with; its differences are read against zero (\"within seed noise\": |mean| ≤ 2·std/√n). Numbers are rounded to two significant digits of their std; table.csv has them in full."
