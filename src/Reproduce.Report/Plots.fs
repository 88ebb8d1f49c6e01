/// Vega-Lite specs (as System.Text.Json nodes) for the report's plots. Data are embedded as `values`, so a spec
/// renders without file or network access (tools/vega-render, or vega-embed inside the HTML page).
module Reproduce.Report.Plots

open System.Text.Json.Nodes
open Reproduce.Report.Compare

/// The Vega-Lite schema the specs are written against (the major version of the vega-lite npm package).
let schema = "https://vega.github.io/schema/vega-lite/v6.json"

// Small constructors: a spec is mostly nested objects, and these keep the builders readable.
let private obj (props: (string * JsonNode | null) list) : JsonObject =
    let o = JsonObject()
    for k, v in props do o[k] <- v
    o

let private node (o: JsonObject) : JsonNode | null = o
let private s (v: string) : JsonNode | null = JsonValue.Create v
let private n (v: float) : JsonNode | null = JsonValue.Create v
let private i (v: int) : JsonNode | null = JsonValue.Create v
let private b (v: bool) : JsonNode | null = JsonValue.Create v
let private arr (items: (JsonNode | null) list) : JsonNode | null = JsonArray(Array.ofList items)
let private field name typ (extra: (string * JsonNode | null) list) = node (obj ([ "field", s name; "type", s typ ] @ extra))
let private nullTitle = [ ("title", (null: JsonNode | null)) ]

let private tooltip (fields: (string * string) list) =
    arr [ for name, typ in fields -> field name typ [] ]

/// The common top of every spec: schema, title, embedded data rows.
let private top (title: string) (values: JsonObject list) =
    obj
        [ "$schema", s schema
          "title", s title
          "data", node (obj [ ("values", arr (values |> List.map node)) ]) ]

/// One panel per metric (each with its own x scale: top-1 % and RMSE do not share an axis).
let private facetByMetric (spec: JsonObject) (layers: JsonObject list) =
    spec["facet"] <- node (obj [ ("row", field "metric" "nominal" [ "title", s "metric"; "header", node (obj [ "labelAngle", i 0; "labelAlign", s "left" ]) ]) ])
    spec["spec"] <- node (obj [ "width", i 360; "layer", arr (layers |> List.map node) ])
    spec["resolve"] <- node (obj [ ("scale", node (obj [ "x", s "independent"; "y", s "independent" ])) ])
    spec

/// A label for the row axis: the table row, prefixed by its table when rows of several tables share a metric.
let private rowLabel (r: ComparisonRow) = sprintf "%s: %s" r.Measured.Table r.Measured.Row

/// Horizontal bars of the mean over seeds per row, with a ±1 sample-std error bar where there are two seeds or
/// more; one panel per metric. Rows without values are left out.
let meanStdBars (title: string) (rows: ComparisonRow list) : JsonObject =
    let values =
        [ for r in rows do
              match r.Mean with
              | Some mean ->
                  // lo = hi = mean without a std: a zero-length rule draws nothing, and every panel keeps a
                  // finite lo/hi extent (a panel of one-seed rows would otherwise warn about an empty domain).
                  let sd = defaultArg r.Std 0.0
                  let o = obj [ "label", s (rowLabel r); "metric", s r.Measured.Metric; "mean", n mean; "n", i r.Measured.Values.Length; "lo", n (mean - sd); "hi", n (mean + sd) ]
                  r.Std |> Option.iter (fun sd -> o["std"] <- n sd)
                  yield o
              | None -> () ]
    // A function, not a value: a JSON node can have only one parent, and both layers need a y channel.
    let y () = field "label" "nominal" (nullTitle @ [ "sort", (null: JsonNode | null); "axis", node (obj [ ("labelLimit", i 320) ]) ])
    let bars =
        obj
            [ "mark", s "bar"
              "encoding",
              node (
                  obj
                      [ "y", y ()
                        "x", field "mean" "quantitative" [ ("title", s "mean over seeds") ]
                        "tooltip", tooltip [ "label", "nominal"; "mean", "quantitative"; "std", "quantitative"; "n", "quantitative" ] ]
              ) ]
    let errors =
        obj
            [ "mark", node (obj [ "type", s "rule"; "color", s "black" ])
              "encoding", node (obj [ "y", y (); "x", field "lo" "quantitative" []; "x2", node (obj [ ("field", s "hi") ]) ]) ]
    facetByMetric (top title values) [ bars; errors ]

/// Grouped bars, paper vs reproduced, for the rows whose difference to the paper is meaningful (Comparable) and
/// whose paper value is a number (ranges are left out: a range is not one bar). One panel per metric.
let paperVsReproduced (title: string) (rows: ComparisonRow list) : JsonObject =
    let values =
        [ for r in rows do
              match r.Comparability, r.Mean, r.Paper |> Option.bind _.Value with
              | Comparable _, Some mean, Some paper ->
                  let label, metric = rowLabel r, r.Measured.Metric
                  yield obj [ "label", s label; "metric", s metric; "source", s "paper"; "value", n paper ]
                  yield obj [ "label", s label; "metric", s metric; "source", s "reproduced"; "value", n mean ]
              | _ -> () ]
    let bars =
        obj
            [ "mark", s "bar"
              "encoding",
              node (
                  obj
                      [ "y", field "label" "nominal" (nullTitle @ [ ("axis", node (obj [ ("labelLimit", i 320) ])) ])
                        "yOffset", field "source" "nominal" []
                        "x", field "value" "quantitative" [ ("title", s "value") ]
                        "color", field "source" "nominal" [ ("scale", node (obj [ ("domain", arr [ s "paper"; s "reproduced" ]) ])) ]
                        "tooltip", tooltip [ "label", "nominal"; "source", "nominal"; "value", "quantitative" ] ]
              ) ]
    facetByMetric (top title values) [ bars ]

/// A line per series over the blocks of a model (x = block index), e.g. the mean cos([CLS], patch) per block
/// before and after the pre-attention LayerNorm, or the share of high-norm tokens per block.
let perBlockLines (title: string) (yTitle: string) (series: (string * (int * float) list) list) : JsonObject =
    let values =
        [ for name, points in series do
              for block, v in points -> obj [ "series", s name; "block", i block; "value", n v ] ]
    let spec = top title values
    spec["width"] <- i 420
    spec["height"] <- i 260
    spec["mark"] <- node (obj [ "type", s "line"; "point", b true ])
    spec["encoding"] <-
        node (
            obj
                [ "x", field "block" "quantitative" [ "title", s "block"; "axis", node (obj [ "tickMinStep", i 1; "format", s "d" ]) ]
                  "y", field "value" "quantitative" [ ("title", s yTitle) ]
                  // Series names carry variant and metric ("norm + QKV — cos(...) after LN1"): let the legend show them whole.
                  "color", field "series" "nominal" [ ("title", (null: JsonNode | null)); "legend", node (obj [ ("labelLimit", i 400) ]) ]
                  "tooltip", tooltip [ "series", "nominal"; "block", "quantitative"; "value", "quantitative" ] ]
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
