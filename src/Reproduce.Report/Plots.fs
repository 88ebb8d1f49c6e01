/// Vega-Lite specs (as System.Text.Json nodes) for the report's plots. Data are embedded as `values`, so a spec
/// renders without file or network access (tools/vega-render, or vega-embed inside the HTML page).
module Reproduce.Report.Plots

open System
open System.Text.Json.Nodes
open Reproduce.Report.Compare

/// The Vega-Lite schema the specs are written against (the major version of the vega-lite npm package).
let schema = "https://vega.github.io/schema/vega-lite/v6.json"

// Small constructors: a spec is mostly nested objects, and these keep the builders readable.
let private obj (props: (string * JsonNode | null) list) : JsonObject =
    let o = JsonObject()
    for k, v in props do
        o[k] <- v
    o

let private node (o: JsonObject) : JsonNode | null = o
let private s (v: string) : JsonNode | null = JsonValue.Create v
let private n (v: float) : JsonNode | null = JsonValue.Create v
let private i (v: int) : JsonNode | null = JsonValue.Create v
let private b (v: bool) : JsonNode | null = JsonValue.Create v
let private arr (items: (JsonNode | null) list) : JsonNode | null = JsonArray(Array.ofList items)
let private field name typ (extra: (string * JsonNode | null) list) = node (obj ([ "field", s name; "type", s typ ] @ extra))
let private nullTitle = [ ("title", (null: JsonNode | null)) ]

let private tooltip (fields: (string * string) list) = arr [ for name, typ in fields -> field name typ [] ]

/// The common top of every spec: schema, title, embedded data rows.
let private top (title: string) (values: JsonObject list) =
    obj [ "$schema", s schema; "title", s title; "data", node (obj [ ("values", arr (values |> List.map node)) ]) ]

/// One panel per metric (each with its own x scale: top-1 % and RMSE do not share an axis).
let private facetByMetric (spec: JsonObject) (layers: JsonObject list) =
    let header = node (obj [ "labelAngle", i 0; "labelAlign", s "left"; "labelLimit", i 0 ])
    spec["facet"] <- node (obj [ ("row", field "metric" "nominal" [ "title", s "metric"; "header", header ]) ])
    spec["spec"] <- node (obj [ "width", i 360; "layer", arr (layers |> List.map node) ])
    spec["resolve"] <- node (obj [ ("scale", node (obj [ "x", s "independent"; "y", s "independent" ])) ])
    spec

/// A label for the row axis: the table row, prefixed by its table when rows of several tables share a metric.
let private rowLabel (r: ComparisonRow) = sprintf "%s: %s" r.Measured.Table r.Measured.Row

/// The row axis. labelLimit 0 = no limit: the headless renderer overestimates text widths, so any finite limit
/// cut long labels ("segmentation transfer (FCN): ViT + FCN…").
// A function, not a value: a JSON node can have only one parent, and every layer needs its own y channel.
let private labelY () = field "label" "nominal" (nullTitle @ [ "sort", (null: JsonNode | null); "axis", node (obj [ ("labelLimit", i 0) ]) ])

/// Parameter counts and FLOPs, and a method's overhead in them (Δ% params), are constants of an architecture, not
/// outcomes of training: in the Δ and mean panels they would only stretch the axes, so they get their own plot.
let isArchitectureMetric (metric: string) =
    metric.Contains("params", StringComparison.OrdinalIgnoreCase) || metric.Contains("FLOPs", StringComparison.OrdinalIgnoreCase)

/// A datum for a row's reproduced mean with its ±1 std extent (lo, hi). lo = hi = mean without a std: a
/// zero-length rule draws nothing, and every panel keeps a finite lo/hi extent (a panel of one-seed rows would
/// otherwise warn about an empty domain).
let private reproducedDatum (r: ComparisonRow) (mean: float) =
    let sd = defaultArg r.Std 0.0
    let o = obj [ "label", s (rowLabel r); "metric", s r.Measured.Metric; "n", i r.Measured.Values.Length; "lo", n (mean - sd); "hi", n (mean + sd) ]
    r.Std |> Option.iter (fun sd -> o["std"] <- n sd)
    o

/// Horizontal bars of the mean over seeds per row, with a ±1 sample-std error bar where there are two seeds or
/// more; one panel per metric. Rows without values and architecture rows (isArchitectureMetric) are left out.
let meanStdBars (title: string) (rows: ComparisonRow list) : JsonObject =
    let values =
        [ for r in rows do
              match r.Mean with
              | Some mean when not (isArchitectureMetric r.Measured.Metric) ->
                  let o = reproducedDatum r mean
                  o["mean"] <- n mean
                  yield o
              | _ -> () ]
    let bars =
        obj
            [ "mark", s "bar"
              "encoding",
              node (
                  obj
                      [ "y", labelY ()
                        "x", field "mean" "quantitative" [ ("title", s "mean over seeds") ]
                        "tooltip", tooltip [ "label", "nominal"; "mean", "quantitative"; "std", "quantitative"; "n", "quantitative" ] ]
              ) ]
    let errors =
        obj
            [ "mark", node (obj [ "type", s "rule"; "color", s "black" ])
              "encoding", node (obj [ "y", labelY (); "x", field "lo" "quantitative" []; "x2", node (obj [ ("field", s "hi") ]) ]) ]
    facetByMetric (top title values) [ bars; errors ]

/// Grouped bars, paper vs reproduced, one panel per metric; a black rule from lo to hi (±1 std) sits on each
/// reproduced bar. The yOffset domain is fixed so a reproduced bar keeps its place when its paper bar is missing.
let private pairedBars (title: string) (values: JsonObject list) =
    let sources () = node (obj [ ("domain", arr [ s "paper"; s "reproduced" ]) ])
    let position () = [ "y", labelY (); "yOffset", field "source" "nominal" [ ("scale", sources ()) ] ]
    let bars =
        obj
            [ "mark", s "bar"
              "encoding",
              node (
                  obj (
                      position ()
                      @ [ "x", field "value" "quantitative" [ ("title", s "value") ]
                          "color", field "source" "nominal" [ ("scale", sources ()) ]
                          "tooltip", tooltip [ "label", "nominal"; "source", "nominal"; "value", "quantitative"; "std", "quantitative"; "n", "quantitative" ] ]
                  )
              ) ]
    let errors =
        obj
            [ "transform", arr [ node (obj [ ("filter", s "datum.source === 'reproduced'") ]) ]
              "mark", node (obj [ "type", s "rule"; "color", s "black" ])
              "encoding", node (obj (position () @ [ "x", field "lo" "quantitative" []; "x2", node (obj [ ("field", s "hi") ]) ])) ]
    facetByMetric (top title values) [ bars; errors ]

let private paperDatum (r: ComparisonRow) (paper: float) = obj [ "label", s (rowLabel r); "metric", s r.Measured.Metric; "source", s "paper"; "value", n paper ]

let private reproducedBar (r: ComparisonRow) (mean: float) =
    let o = reproducedDatum r mean
    o["source"] <- s "reproduced"
    o["value"] <- n mean
    o

/// The paper value of a row when the difference to it is meaningful (Comparable) and it is one number (a range
/// is not one bar).
let private comparablePaperValue (r: ComparisonRow) =
    match r.Comparability with
    | Comparable _ -> r.Paper |> Option.bind _.Value
    | _ -> None

/// Paper vs reproduced (± std) for exactly the given rows (a page's claims, Summary.claims): each row with values
/// gets its reproduced bar, and a paper bar beside it when the paper value is comparable and one number.
let paperVsReproduced (title: string) (rows: ComparisonRow list) : JsonObject =
    let values =
        [ for r in rows do
              match r.Mean with
              | Some mean ->
                  match comparablePaperValue r with
                  | Some paper -> yield paperDatum r paper
                  | None -> ()
                  yield reproducedBar r mean
              | None -> () ]
    pairedBars title values

/// Parameter counts and GFLOPs per model, paper vs reproduced (the registry's count); a row without a comparable
/// paper value still shows its reproduced bar.
let modelTable (title: string) (rows: ComparisonRow list) : JsonObject =
    let values =
        [ for r in rows do
              match r.Mean with
              | Some mean when isArchitectureMetric r.Measured.Metric ->
                  match comparablePaperValue r with
                  | Some paper -> yield paperDatum r paper
                  | None -> ()
                  yield reproducedBar r mean
              | _ -> () ]
    pairedBars title values

/// What Results.perBlockPlot puts between a variant and a measure when a plot shows several measures.
let private measureSeparator = " — "

/// A line per series over the blocks of a model (x = block index), e.g. the mean cos([CLS], patch) per block
/// before and after the pre-attention LayerNorm, or the share of high-norm tokens per block. When every series
/// is named "<variant> — <measure>", colour encodes the variant and dash and point shape the measure, so the
/// before/after curves of one variant share a colour but not a line style; other names keep colour only.
let perBlockLines (title: string) (yTitle: string) (series: (string * (int * float) list) list) : JsonObject =
    let split = not series.IsEmpty && series |> List.forall (fun (name, _) -> name.Contains measureSeparator)
    // The last separator: the measure is appended after the variant, which may itself contain one.
    let parts (name: string) =
        let k = name.LastIndexOf measureSeparator
        name.Substring(0, k), name.Substring(k + measureSeparator.Length)
    let values =
        [ for name, points in series do
              for block, v in points ->
                  let o = obj [ "series", s name; "block", i block; "value", n v ]
                  if split then
                      let variant, measure = parts name
                      o["variant"] <- s variant
                      o["measure"] <- s measure
                  o ]
    // labelLimit 0: the renderer overestimates text widths, so a finite limit cut the long series names.
    let legend (extra: (string * JsonNode | null) list) = node (obj (("labelLimit", i 0) :: extra))
    // Domains in order of first appearance. The measure channels share one explicit domain, which is what lets
    // Vega-Lite merge their legends into one (an entry then shows the dash, the shape and the width together).
    let scale (names: string list) (range: float list option) =
        let o = obj [ ("domain", arr (names |> List.distinct |> List.map s)) ]
        range |> Option.iter (fun r -> o["range"] <- arr (List.map n r))
        node o
    let style =
        if split then
            let variants, measures = series |> List.map (fst >> parts) |> List.unzip
            let k = (List.distinct measures).Length
            // Curves of one variant often coincide: the first measure is drawn wide and pale, later ones thin and
            // opaque on top of it, so a dashed line stays visible over a solid one.
            let ramp a b = if k = 1 then [ b ] else List.init k (fun j -> a + (b - a) * float j / float (k - 1))
            let byMeasure (channel: string) typ range =
                channel,
                field
                    "measure"
                    typ
                    [ "title", s "measure"; "scale", scale measures range; "legend", legend [ "symbolStrokeColor", s "black"; "symbolSize", i 200 ] ]
            [ "color", field "variant" "nominal" [ "title", s "variant"; "scale", scale variants None; "legend", legend [] ]
              byMeasure "strokeDash" "nominal" None
              byMeasure "shape" "nominal" None
              // Ordinal: Vega-Lite warns about width or opacity by an unordered (nominal) field.
              byMeasure "strokeWidth" "ordinal" (Some(ramp 4.0 1.5))
              byMeasure "strokeOpacity" "ordinal" (Some(ramp 0.5 1.0))
              "tooltip", tooltip [ "variant", "nominal"; "measure", "nominal"; "block", "quantitative"; "value", "quantitative" ] ]
        else
            [ "color", field "series" "nominal" [ "title", (null: JsonNode | null); "legend", legend [] ]
              "tooltip", tooltip [ "series", "nominal"; "block", "quantitative"; "value", "quantitative" ] ]
    let spec = top title values
    spec["width"] <- i 420
    spec["height"] <- i 260
    // Open points: where two curves meet, both shapes stay visible.
    spec["mark"] <- node (obj [ "type", s "line"; "point", node (obj [ "filled", b false; "size", i 50 ]) ])
    spec["encoding"] <-
        node (
            obj (
                [ "x", field "block" "quantitative" [ "title", s "block"; "axis", node (obj [ "tickMinStep", i 1; "format", s "d" ]) ]
                  "y", field "value" "quantitative" [ ("title", s yTitle) ] ]
                @ style
            )
        )
    spec

/// The number of data rows a spec embeds (an empty plot is not worth writing).
let dataCount (spec: JsonObject) =
    match spec["data"] with
    | :? JsonObject as d ->
        match d["values"] with
        | :? JsonArray as a -> a.Count
        | _ -> 0
    | _ -> 0

/// The spec as readable JSON text (`*.vl.json`).
let toJson (spec: JsonObject) = spec.ToJsonString(Paper.readableJson)
