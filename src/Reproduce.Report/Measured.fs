/// The contract between the paper scripts (scripts/*.fsx) and the report: what a script measured, per row and
/// seed, and which rows the profile cannot produce. Scripts write one `measured.json` per paper and profile
/// (`results/<profile>/<paper>/measured.json`); the report turns it into table.md / table.csv / plots.
module Reproduce.Report.Measured

open System.IO
open System.Text.Json
open System.Text.Json.Nodes

/// One reproduced quantity: a metric of one table row, one value per seed (same order as Seeds).
type MeasuredRow =
    {
        /// Table of the paper this row belongs to, e.g. "ablation", "results table", "overhead".
        Table: string
        /// Row label as the table prints it, e.g. "TL + MixToken".
        Row: string
        /// Metric with its unit, e.g. "top-1 %", "Δ top-1", "mIoU", "abs_rel", "params %".
        Metric: string
        /// One value per seed.
        Values: float list
        Seeds: int list
        /// Id of the published number to compare with (`id` in results/paper/<paper>.json), if any.
        PaperRef: string option
        /// Run directories (relative to the results folder) the values came from.
        Runs: string list
        Note: string option
    }

/// A row of the paper the profile cannot produce, and why (e.g. "needs ImageNet-1k: full profile").
type UnavailableRow = { Table: string; Row: string; Metric: string; Reason: string }

/// Everything one script measured for one paper at one profile.
type PaperResults =
    {
        /// "token-labeling" | "sta-anf" | "specialization" | "combined".
        Paper: string
        Profile: string
        /// Hardware the numbers were measured on, e.g. "CPU, 2 threads (Intel …)".
        Hardware: string
        /// The command that produced them, e.g. "dotnet fsi scripts/token-labeling.fsx --profile quick --seeds 3".
        Command: string
        Rows: MeasuredRow list
        Unavailable: UnavailableRow list
    }

let private str (s: string) : JsonNode | null = JsonValue.Create s
let private num (v: float) : JsonNode | null = JsonValue.Create v
let private int (v: int) : JsonNode | null = JsonValue.Create v
let private array (items: (JsonNode | null) list) : JsonNode | null = JsonArray(Array.ofList items)

let private rowNode (r: MeasuredRow) =
    let o = JsonObject()
    o["table"] <- str r.Table
    o["row"] <- str r.Row
    o["metric"] <- str r.Metric
    o["values"] <- array (r.Values |> List.map num)
    o["seeds"] <- array (r.Seeds |> List.map int)
    r.PaperRef |> Option.iter (fun v -> o["paper_ref"] <- str v)
    o["runs"] <- array (r.Runs |> List.map str)
    r.Note |> Option.iter (fun v -> o["note"] <- str v)
    o :> JsonNode | null

let private unavailableNode (u: UnavailableRow) =
    let o = JsonObject()
    o["table"] <- str u.Table
    o["row"] <- str u.Row
    o["metric"] <- str u.Metric
    o["reason"] <- str u.Reason
    o :> JsonNode | null

/// The JSON text of `measured.json` (snake_case keys, indented).
let toJson (results: PaperResults) =
    let o = JsonObject()
    o["paper"] <- str results.Paper
    o["profile"] <- str results.Profile
    o["hardware"] <- str results.Hardware
    o["command"] <- str results.Command
    o["rows"] <- array (results.Rows |> List.map rowNode)
    o["unavailable"] <- array (results.Unavailable |> List.map unavailableNode)
    o.ToJsonString(JsonSerializerOptions(WriteIndented = true))

/// Writes `measured.json` atomically (temp file + rename).
let write (path: string) (results: PaperResults) =
    match Path.GetDirectoryName(Path.GetFullPath path) with
    | null -> ()
    | dir -> Directory.CreateDirectory dir |> ignore
    let tmp = path + ".tmp"
    File.WriteAllText(tmp, toJson results)
    File.Move(tmp, path, true)

let private value<'T> (fail: string -> 'T) key (n: JsonNode | null) : 'T =
    match n with
    | null -> fail key
    | n ->
        try
            n.GetValue<'T>()
        with
        | :? System.InvalidOperationException
        | :? System.FormatException -> fail key

/// Parses the text of a `measured.json`; `origin` names the file in errors.
let ofJson (origin: string) (text: string) : PaperResults =
    let fail key : 'a = failwithf "%s: not a measured-results file: missing or invalid '%s'" origin key
    let root =
        try
            match JsonNode.Parse text with
            | null -> failwithf "%s: empty JSON" origin
            | n -> n
        with :? JsonException as e ->
            failwithf "%s: invalid JSON: %s" origin e.Message
    let get (o: JsonNode) (key: string) : JsonNode =
        match o[key] with
        | null -> fail key
        | v -> v
    let text (o: JsonNode) key : string = value fail key (get o key)
    let opt (o: JsonNode) (key: string) =
        match o[key] with
        | null -> None
        | v -> Some(value fail key v)
    let list (o: JsonNode) key (f: JsonNode | null -> 'T) =
        match get o key with
        | :? JsonArray as a -> [ for n in a -> f n ]
        | _ -> fail key
    { Paper = text root "paper"
      Profile = text root "profile"
      Hardware = text root "hardware"
      Command = text root "command"
      Rows =
        list root "rows" (fun r ->
            let r =
                match r with
                | null -> fail "rows"
                | r -> r
            { Table = text r "table"
              Row = text r "row"
              Metric = text r "metric"
              Values = list r "values" (value fail "values")
              Seeds = list r "seeds" (value fail "seeds")
              PaperRef = opt r "paper_ref"
              Runs = list r "runs" (value fail "runs")
              Note = opt r "note" })
      Unavailable =
        list root "unavailable" (fun u ->
            let u =
                match u with
                | null -> fail "unavailable"
                | u -> u
            { Table = text u "table"; Row = text u "row"; Metric = text u "metric"; Reason = text u "reason" }) }

/// Reads a `measured.json`, naming the file on error.
let read (path: string) : PaperResults = ofJson path (File.ReadAllText path)
