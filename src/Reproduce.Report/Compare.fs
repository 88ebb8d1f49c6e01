/// Joins what a script measured (measured.json) with the published numbers (results/paper/*.json) by `paper_ref`,
/// summarises the seeds (mean ± sample std) and decides, row by row, whether the difference to the paper means
/// anything: a small-profile absolute accuracy on Fashion-MNIST next to an ImageNet accuracy does not, a
/// method-minus-baseline difference does (in sign and size), and so does a parameter count of the same architecture.
module Reproduce.Report.Compare

open System
open System.Globalization
open Reproduce.Report.Measured
open Reproduce.Report.Paper

/// Whether a reproduced row can be set against its published number, and why (printed in the table).
type Comparability =
    /// Same kind of number, meaningful at this profile; the label says which kind ("Δ", "absolute", …).
    | Comparable of label: string
    /// There is a published number, but the difference would mislead; the reason says why.
    | NotComparable of reason: string
    /// The row has no published number to compare with (no paper_ref, or the paper gives only words).
    | NoPaperValue of reason: string

/// One row of the comparison table.
type ComparisonRow =
    {
        Measured: MeasuredRow
        Paper: PaperRow option
        /// Mean over seeds; None when the row has no values.
        Mean: float option
        /// Sample standard deviation (n − 1); None for fewer than two seeds.
        Std: float option
        /// Reproduced − paper when comparable; for a published range, the distance outside it (0 inside).
        Delta: float option
        Comparability: Comparability
    }

/// A whole table: the measured file it came from, its rows, and every seed used by any row.
type Comparison =
    {
        Results: PaperResults
        /// Title of the paper (from its reference file), or the slug when there is none.
        Title: string
        Rows: ComparisonRow list
        Seeds: int list
    }

/// Mean and sample standard deviation (divisor n − 1). One value has no std; no value has neither.
let meanStd (values: float list) : float option * float option =
    match values with
    | [] -> None, None
    | [ x ] -> Some x, None
    | xs ->
        let n = float xs.Length
        let mean = List.average xs
        let ss = xs |> List.sumBy (fun x -> (x - mean) * (x - mean))
        Some mean, Some(sqrt (ss / (n - 1.0)))

/// The kind of a measured metric, read from its name (the convention the scripts follow):
/// "Δ% …", "rel. Δ …" or "relative …" → Relative (percent change); "Δ …" or "delta …" → Delta; else Absolute.
let metricKind (metric: string) : ValueKind =
    let m = metric.TrimStart().ToLowerInvariant()
    if m.StartsWith "δ%" || m.StartsWith "delta%" || m.StartsWith "rel. δ" || m.StartsWith "relative" then Relative
    elif m.StartsWith "δ" || m.StartsWith "delta" then Delta
    else Absolute

/// Decides comparability of one measured row with its published number at a profile.
let comparability (profile: string) (measured: MeasuredRow) (paper: PaperRow option) : Comparability =
    let kind = metricKind measured.Metric
    match paper with
    | None -> NoPaperValue "no published number for this row"
    | Some p when p.Value.IsNone && p.Range.IsNone -> NoPaperValue(sprintf "the paper gives no number (%s)" (defaultArg p.ValueText "not found"))
    | Some p when p.Kind <> kind -> NotComparable(sprintf "paper value is %s, reproduced metric is %s" (kindName p.Kind) (kindName kind))
    | Some _ when measured.Values.IsEmpty -> NotComparable "no reproduced values"
    | Some p ->
        match p.Kind with
        | Delta -> Comparable "Δ"
        | Relative -> Comparable "relative Δ"
        | Absolute when p.ProfileIndependent -> Comparable "absolute (architecture)"
        | Absolute when profile = "full" -> Comparable "absolute"
        | Absolute -> NotComparable(sprintf "absolute value on %s-profile data vs the paper's %s" profile p.Dataset)

/// Reproduced − paper for a comparable row; for a range, how far the mean lies outside it (0 inside).
let delta (mean: float) (paper: PaperRow) : float option =
    match paper.Value, paper.Range with
    | Some v, _ -> Some(mean - v)
    | None, Some(lo, hi) ->
        Some(
            if mean < lo then mean - lo
            elif mean > hi then mean - hi
            else 0.0
        )
    | None, None -> None

/// Builds the comparison of one measured file; `origin` names that file in errors (unknown paper_ref).
let join (origin: string) (papers: PaperFile list) (results: PaperResults) : Comparison =
    let byId = index papers
    let row (m: MeasuredRow) =
        if m.Values.Length <> m.Seeds.Length then failwithf "%s: row '%s' / '%s': %d values for %d seeds" origin m.Row m.Metric m.Values.Length m.Seeds.Length
        let paper =
            m.PaperRef
            |> Option.map (fun id ->
                match byId.TryFind id with
                | Some p -> p
                | None -> failwithf "%s: row '%s' / '%s': paper_ref '%s' is not an id in results/paper/*.json" origin m.Row m.Metric id)
        let mean, std = meanStd m.Values
        let c = comparability results.Profile m paper
        let d =
            match c, mean, paper with
            | Comparable _, Some mean, Some p -> delta mean p
            | _ -> None
        { Measured = m; Paper = paper; Mean = mean; Std = std; Delta = d; Comparability = c }
    { Results = results
      Title = papers |> List.tryFind (fun f -> f.Paper = results.Paper) |> Option.map _.Title |> Option.defaultValue results.Paper
      Rows = results.Rows |> List.map row
      Seeds = results.Rows |> List.collect _.Seeds |> List.distinct |> List.sort }

/// Whether a compared difference points the paper's way: the sign of the reproduced mean against the paper's
/// (its value, or the middle of its range), unless the mean is within seed noise (|mean| ≤ 2·std/√n, about a 95 %
/// band for the mean); with one seed only the sign can be read. Empty for rows that are not compared differences.
let direction (r: ComparisonRow) : string =
    let paperSign =
        match r.Paper with
        | Some { Value = Some v } -> Some(sign v)
        | Some { Range = Some(lo, hi) } -> Some(sign ((lo + hi) / 2.0))
        | _ -> None
    match r.Comparability, r.Mean, paperSign with
    | Comparable label, Some mean, Some ps when label <> "absolute" && label <> "absolute (architecture)" && ps <> 0 ->
        let n = float r.Measured.Values.Length
        let noisy = r.Std |> Option.exists (fun s -> abs mean <= 2.0 * s / sqrt n)
        let agrees = if sign mean = ps then "same sign as paper" else "opposite sign to paper"
        if noisy then "within seed noise"
        elif r.Std.IsNone then "1 seed: " + agrees
        else agrees
    | _ -> ""

// ---- formatting --------------------------------------------------------------------------------------------

/// The paper's number when the row is compared with it and it is one number.
let private comparedPaperValue (r: ComparisonRow) =
    match r.Comparability, r.Paper with
    | Comparable _, Some { Value = Some v } -> Some v
    | _ -> None

/// "mean ± std" rounded to what the std supports (Numbers.meanStd); one seed: the value alone, with at least the
/// decimal places of the paper's number it is compared with; "—" for none.
let reproducedText (r: ComparisonRow) =
    match r.Mean, r.Std, comparedPaperValue r with
    | Some m, Some s, _ -> Numbers.meanStd m s
    | Some m, None, Some p -> Numbers.plainBeside p m
    | Some m, None, None -> Numbers.plain m
    | None, _, _ -> "—"

let paperText (r: ComparisonRow) = r.Paper |> Option.map display |> Option.defaultValue "—"

/// Reproduced − paper, to the reproduced mean's decimal place; "in range" inside a published range.
let deltaText (r: ComparisonRow) =
    match r.Delta, r.Paper with
    | Some 0.0, Some p when p.Value.IsNone && p.Range.IsSome -> "in range"
    // One seed beside a published number: to the place the reproduced value is printed to (8.535 vs 8.53: +0.005).
    | Some d, _ when r.Std.IsNone && (comparedPaperValue r).IsSome -> Numbers.withSign (Numbers.fixedAt (Numbers.textDecimals (reproducedText r)) d)
    | Some d, _ -> Numbers.besideMean r.Std d
    | None, _ -> "—"

let comparableText =
    function
    | Comparable label -> "yes: " + label
    | NotComparable reason -> "no: " + reason
    | NoPaperValue reason -> "no paper value: " + reason

/// A number for machines: 12 significant digits, invariant culture (full "R" precision would print
/// floating-point noise such as 0.20000000000000004 for a mean of 0.3, 0.1, 0.2).
let fmtExact (v: float) = v.ToString("G12", CultureInfo.InvariantCulture)

/// Quotes one CSV field per RFC 4180: fields with a comma, quote, CR or LF are wrapped in quotes, and quotes doubled.
let csvField (s: string) = if s.IndexOfAny [| ','; '"'; '\r'; '\n' |] >= 0 then "\"" + s.Replace("\"", "\"\"") + "\"" else s

let private csvLine (fields: string list) = String.Join(",", fields |> List.map csvField)

/// The CSV columns, in order.
let csvColumns =
    [ "table"; "row"; "metric"; "paper_ref"; "paper"; "reproduced"; "mean"; "std"; "n"; "seeds"; "delta"; "direction"; "status"; "reason"; "profile"; "note" ]

/// The whole `table.csv` (CRLF line ends, as RFC 4180 says): one line per measured row, then one per row the
/// profile cannot produce (status "unavailable"). Numbers with 12 significant digits.
let csv (c: Comparison) =
    let opt f = Option.map f >> Option.defaultValue ""
    let measured =
        c.Rows
        |> List.map (fun r ->
            let status, reason =
                match r.Comparability with
                | Comparable label -> "compared", label
                | NotComparable reason -> "not comparable", reason
                | NoPaperValue reason -> "no paper value", reason
            csvLine
                [ r.Measured.Table
                  r.Measured.Row
                  r.Measured.Metric
                  defaultArg r.Measured.PaperRef ""
                  (r.Paper |> opt display)
                  reproducedText r
                  opt fmtExact r.Mean
                  opt fmtExact r.Std
                  string r.Measured.Values.Length
                  String.Join(";", r.Measured.Seeds)
                  opt fmtExact r.Delta
                  direction r
                  status
                  reason
                  c.Results.Profile
                  defaultArg r.Measured.Note "" ])
    let unavailable =
        c.Results.Unavailable
        |> List.map (fun u -> csvLine [ u.Table; u.Row; u.Metric; ""; ""; ""; ""; ""; "0"; ""; ""; ""; "unavailable"; u.Reason; c.Results.Profile; "" ])
    String.Join("\r\n", csvLine csvColumns :: measured @ unavailable) + "\r\n"
