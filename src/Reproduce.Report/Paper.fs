/// The papers' published numbers (`results/paper/*.json`): one row per number, each with its source, so that
/// every comparison names exactly which published value it is measured against.
module Reproduce.Report.Paper

open System
open System.IO
open System.Text.Encodings.Web
open System.Text.Json
open System.Text.Json.Nodes

/// What a published number is: an absolute value, a difference in the metric's own unit (points), or a
/// relative change in percent. Only numbers of the same kind can be compared.
type ValueKind =
    | Absolute
    | Delta
    | Relative

/// One published number.
type PaperRow =
    {
        /// Stable id, unique over all files, e.g. "tl-mixtoken-vs-cutmix-in-labels"; `paper_ref` in measured.json.
        Id: string
        /// Paper slug: "token-labeling" | "sta-anf" | "specialization" | "related".
        Paper: string
        /// Table or claim of the paper, e.g. "MixToken vs CutMix".
        Table: string
        Model: string
        Dataset: string
        Metric: string
        Kind: ValueKind
        /// The number; None where the source gives none (then ValueText says what it gives).
        Value: float option
        /// The wording when it is not a plain number ("up to +2.2", "not found", "< 5").
        ValueText: string option
        /// A published range ("+0.5 to +1.5") as (low, high); a reproduced value inside it is on target.
        Range: (float * float) option
        /// True for properties of the architecture (parameter counts, FLOPs overhead) that any profile building
        /// the paper-sized model reproduces exactly, so an absolute comparison is meaningful at every profile.
        ProfileIndependent: bool
        /// Source tags of docs/papers.md (its source key); "derived" for numbers computed from cited ones.
        Source: string
        Note: string option
    }

/// One `results/paper/<paper>.json` file.
type PaperFile =
    {
        Paper: string
        Title: string
        Rows: PaperRow list
        /// What the references do not give (so nobody fills it in from memory).
        NotFound: string list
    }

let kindName =
    function
    | Absolute -> "absolute"
    | Delta -> "delta"
    | Relative -> "relative"

let private kindOf (origin: string) (id: string) =
    function
    | "absolute" -> Absolute
    | "delta" -> Delta
    | "relative" -> Relative
    | other -> failwithf "%s: row '%s': 'kind' must be absolute, delta or relative, not '%s'" origin id other

/// JSON options for files people read: indented, Δ and ± kept as characters rather than \u escapes.
let readableJson = JsonSerializerOptions(WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping)

let private parseRoot (origin: string) (text: string) : JsonObject =
    let node =
        try
            JsonNode.Parse text
        with :? JsonException as e ->
            failwithf "%s: invalid JSON: %s" origin e.Message
    match node with
    | :? JsonObject as o -> o
    | _ -> failwithf "%s: expected a JSON object at the top level" origin

// Typed reads of JSON scalars; None when the node is absent or of another JSON kind.
let private numberOf (n: JsonNode | null) : float option =
    match n with
    | :? JsonValue as v when v.GetValueKind() = JsonValueKind.Number -> Some(v.GetValue<float>())
    | _ -> None

let private textOf (n: JsonNode | null) : string option =
    match n with
    | :? JsonValue as v when v.GetValueKind() = JsonValueKind.String -> Some(v.GetValue<string>())
    | _ -> None

let private boolOf (n: JsonNode | null) : bool option =
    match n with
    | :? JsonValue as v when v.GetValueKind() = JsonValueKind.True -> Some true
    | :? JsonValue as v when v.GetValueKind() = JsonValueKind.False -> Some false
    | _ -> None

let private stringOf (origin: string) (where: string) (o: JsonObject) (key: string) : string option =
    match o[key] with
    | null -> None
    | n when (textOf n).IsSome -> textOf n
    | _ -> failwithf "%s: %s: '%s' must be a string" origin where key

let private requiredString origin where (o: JsonObject) key =
    match stringOf origin where o key with
    | Some s when not (String.IsNullOrWhiteSpace s) -> s
    | _ -> failwithf "%s: %s: missing or empty '%s'" origin where key

let private parseRow (origin: string) (index: int) (node: JsonNode | null) : PaperRow =
    let o =
        match node with
        | :? JsonObject as o -> o
        | _ -> failwithf "%s: rows[%d] is not an object" origin index
    let id = requiredString origin (sprintf "rows[%d]" index) o "id"
    let where = sprintf "row '%s'" id
    let req = requiredString origin where o
    let value =
        match o["value"] with
        | null -> None
        | n ->
            match numberOf n with
            | Some x when Double.IsFinite x -> Some x
            | _ -> failwithf "%s: %s: 'value' must be a finite number or null" origin where
    if not (o.ContainsKey "value") then failwithf "%s: %s: missing 'value' (use null with 'value_text')" origin where
    let valueText = stringOf origin where o "value_text"
    let range =
        match o["range"] with
        | null -> None
        | :? JsonArray as a when a.Count = 2 ->
            let bound (n: JsonNode | null) =
                match numberOf n with
                | Some x when Double.IsFinite x -> x
                | _ -> failwithf "%s: %s: 'range' must be [low, high] numbers" origin where
            let lo, hi = bound a[0], bound a[1]
            if lo > hi then failwithf "%s: %s: 'range' low %g is above high %g" origin where lo hi
            Some(lo, hi)
        | _ -> failwithf "%s: %s: 'range' must be [low, high] numbers" origin where
    let profileIndependent =
        match o["profile_independent"] with
        | null -> false
        | n when (boolOf n).IsSome -> (boolOf n).Value
        | _ -> failwithf "%s: %s: 'profile_independent' must be true or false" origin where
    if value.IsNone && valueText.IsNone then failwithf "%s: %s: 'value' is null, so 'value_text' must say what the source gives" origin where
    { Id = id
      Paper = req "paper"
      Table = req "table"
      Model = req "model"
      Dataset = req "dataset"
      Metric = req "metric"
      Kind = kindOf origin id (req "kind")
      Value = value
      ValueText = valueText
      Range = range
      ProfileIndependent = profileIndependent
      Source = req "source"
      Note = stringOf origin where o "note" }

/// Parses the text of one paper file; `origin` names the file in errors. Rejects duplicate ids, missing
/// fields, rows of another paper and a null value without a `value_text`.
let ofJson (origin: string) (text: string) : PaperFile =
    let root = parseRoot origin text
    let paper = requiredString origin "top level" root "paper"
    let rows =
        match root["rows"] with
        | :? JsonArray as a -> a |> Seq.mapi (parseRow origin) |> List.ofSeq
        | _ -> failwithf "%s: missing 'rows' array" origin
    let notFound =
        match root["not_found"] with
        | null -> []
        | :? JsonArray as a ->
            [ for n in a ->
                  match textOf n with
                  | Some s -> s
                  | None -> failwithf "%s: 'not_found' must be an array of strings" origin ]
        | _ -> failwithf "%s: 'not_found' must be an array of strings" origin
    for r in rows do
        if r.Paper <> paper then failwithf "%s: row '%s': paper '%s' differs from the file's paper '%s'" origin r.Id r.Paper paper
    rows
    |> List.countBy _.Id
    |> List.filter (fun (_, n) -> n > 1)
    |> List.tryHead
    |> Option.iter (fun (id, n) -> failwithf "%s: duplicate id '%s' (%d rows)" origin id n)
    { Paper = paper; Title = requiredString origin "top level" root "title"; Rows = rows; NotFound = notFound }

/// Reads one paper file, naming it on error.
let read (path: string) : PaperFile =
    if not (File.Exists path) then failwithf "%s: paper reference file not found" path
    ofJson path (File.ReadAllText path)

/// The paper reference folder for a results root: `<root>/paper` when it exists, else the repository's committed
/// `results/paper` (beside these sources when loaded by a script; else the first found walking up from the current
/// directory, for a compiled build whose source paths are mapped), so a results root elsewhere (the regression
/// check's temporary one, `--results DIR`) is compared with the same published numbers.
let folderFor (resultsRoot: string) =
    let own = Path.Combine(resultsRoot, "paper")
    let committed = Path.GetFullPath(Path.Combine(__SOURCE_DIRECTORY__, "..", "..", "results", "paper"))
    let rec up (dir: DirectoryInfo | null) =
        match dir with
        | null -> None
        | d when Directory.Exists(Path.Combine(d.FullName, "results", "paper")) -> Some(Path.Combine(d.FullName, "results", "paper"))
        | d -> up d.Parent
    if Directory.Exists own then own
    elif Directory.Exists committed then committed
    else up (DirectoryInfo Environment.CurrentDirectory) |> Option.defaultValue own

/// Reads every `*.json` in a folder (normally `results/paper`), sorted by name; ids must be unique over all files.
let readAll (dir: string) : PaperFile list =
    if not (Directory.Exists dir) then failwithf "%s: paper reference folder not found" dir
    let files = Directory.GetFiles(dir, "*.json") |> Array.sort |> Array.map read |> List.ofArray
    let seen = Collections.Generic.Dictionary<string, string>()
    for f in files do
        for r in f.Rows do
            match seen.TryGetValue r.Id with
            | true, other -> failwithf "%s: id '%s' is used both in paper '%s' and in paper '%s'" dir r.Id other f.Paper
            | _ -> seen[r.Id] <- f.Paper
    files

/// All rows of the given files by id.
let index (files: PaperFile list) : Map<string, PaperRow> = files |> List.collect _.Rows |> List.map (fun r -> r.Id, r) |> Map.ofList

/// The row's value as printed: the number, or the source's wording where there is no number.
let display (r: PaperRow) =
    match r.Value, r.ValueText with
    | _, Some t -> t
    | Some v, None -> Numbers.exact v
    | None, None -> ""
